package plan

// Severities of warnings.
const (
	// SeverityProblem is an unresolved problem: a record hrsync leaves out
	// or cannot provision, a user it leaves alone as a whole, or a value it
	// cannot write. Running again does not resolve it: someone must fix
	// the source, the mapping or the directory. plan --detailed-exitcode
	// adds ExitProblems for it, so schedules alert.
	SeverityProblem = "problem"
	// SeverityNote is for the reviewer: the records concerned are
	// provisioned, and a detail is held back (a manager reference) or
	// worth knowing (a takeover, a threshold that blocks the plan, which
	// --detailed-exitcode reports on its own).
	SeverityNote = "note"
)

// severities classifies every warning code. A code missing here (one
// added later, or from a newer hrsync's plan) counts as a problem: an
// alert too many beats a worker silently left without an account.
var severities = map[string]string{
	// Records left out or not provisioned.
	WarnDuplicateKey:  SeverityProblem, // the records with the key are left out, the user with it left alone
	WarnRecordError:   SeverityProblem, // the record (or a group or license of it) is left out
	WarnNoKey:         SeverityProblem, // the record is left out, and no leavers are planned
	WarnMatchConflict: SeverityProblem, // the records are left out, the users left alone
	WarnCannotCreate:  SeverityProblem, // the joiner is not created
	WarnUPNConflict:   SeverityProblem, // the joiner is not created
	WarnPossibleRekey: SeverityProblem, // the joiner is not created until someone decides
	WarnRestore:       SeverityProblem, // the rehire is neither restored nor created
	// Users left alone, values not written.
	WarnTargetDuplicateKey: SeverityProblem, // the users holding the key are left alone
	WarnLeaversSuppressed:  SeverityProblem, // leavers stay enabled
	WarnDisabledAccount:    SeverityProblem, // an active worker's account stays disabled
	WarnMailConflict:       SeverityProblem, // a joiner not created, or a user keeping an old mail
	WarnNoUsageLocation:    SeverityProblem, // a license is not assigned
	// Provisioned; a detail held back, or for the reviewer.
	WarnManagerNotFound:   SeverityNote, // the manager reference is left as it is
	WarnManagerSelf:       SeverityNote,
	WarnManagerUnresolved: SeverityNote,
	WarnManagerAmbiguous:  SeverityNote,
	WarnManagerCycle:      SeverityNote, // every record in the circle is provisioned; only their managers are left as they are
	WarnCannotClear:       SeverityNote, // the directory cannot clear the value; it keeps the old one
	WarnTakeover:          SeverityNote, // a check for the reviewer; the record is provisioned
	WarnRuleNoEntry:       SeverityNote, // a check for the reviewer; the user is updated
	WarnLeaverThreshold:   SeverityNote, // the plan is blocked: --detailed-exitcode says so with 4
	WarnThreshold:         SeverityNote,
	WarnEveryRun:          SeverityNote, // a mapping that updates users on every run
	WarnMastered:          SeverityNote, // by design: the directory that masters the user makes its changes
	// From a source (an LDAP source's DN-valued attribute, e.g. a manager,
	// pointing outside the entries read or at one without the key): the
	// record is provisioned, the reference read as empty.
	"reference_outside_source": SeverityNote,
	"reference_without_key":    SeverityNote,
}

// Severity is the severity of a warning code (see severities).
func Severity(code string) string {
	if s, ok := severities[code]; ok {
		return s
	}
	return SeverityProblem
}

// Problem reports whether the warning is an unresolved problem.
func (w Warning) Problem() bool { return Severity(w.Code) == SeverityProblem }

// Problems are the plan's unresolved problems, in the plan's order.
func (p *Plan) Problems() []Warning {
	var out []Warning
	for _, w := range p.Warnings {
		if w.Problem() {
			out = append(out, w)
		}
	}
	return out
}

// Notes are the plan's warnings that are not problems.
func (p *Plan) Notes() []Warning {
	var out []Warning
	for _, w := range p.Warnings {
		if !w.Problem() {
			out = append(out, w)
		}
	}
	return out
}

// Warn adds warnings to a computed plan (ones the engine learns of, such
// as the source's, or a mapping that changes values on every run),
// classified.
func (p *Plan) Warn(ws ...Warning) {
	p.Warnings = append(p.Warnings, ws...)
	p.classify()
}

// classify sets each warning's severity and the summary's count of
// problems: derived from the codes, never trusted from a plan file.
func (p *Plan) classify() {
	p.Summary.Problems = 0
	for i := range p.Warnings {
		p.Warnings[i].Severity = Severity(p.Warnings[i].Code)
		if p.Warnings[i].Severity == SeverityProblem {
			p.Summary.Problems++
		}
	}
}

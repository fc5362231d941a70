package engine

import (
	"context"

	"github.com/hrsync/hrsync/internal/plan"
)

// Validation is what `hrsync validate` reports: the configuration, the
// mapping and the source as read, and what a plan would leave out, found
// without reading the directory. Its JSON keys are snake_case.
type Validation struct {
	// Config is the configuration file; "" when there is none.
	Config  string            `json:"config"`
	Mapping ValidationMapping `json:"mapping"`
	Source  ValidationSource  `json:"source"`
	// Clean counts the records mapped without error and with a key of
	// their own; Unusable the others (mapping errors, duplicate keys).
	Clean    int `json:"records_clean"`
	Unusable int `json:"records_unusable"`
	// Problems and Notes count the warnings by severity.
	Problems int `json:"problems"`
	Notes    int `json:"notes"`
	// Warnings are those of a plan against an empty directory, but for
	// the ones only the directory can decide (a manager's account).
	Warnings []plan.Warning `json:"warnings"`
}

// ValidationMapping describes the mapping read.
type ValidationMapping struct {
	File        string `json:"file"`
	Attributes  int    `json:"attributes"`
	MatchSource string `json:"match_source"`
	MatchTarget string `json:"match_target"`
}

// ValidationSource describes the source read.
type ValidationSource struct {
	Name    string `json:"name"`
	Records int    `json:"records"`
	Columns int    `json:"columns"`
}

// Check reads and maps the whole source and plans it against an empty
// directory (see Validate): every record-level problem, and no tenant
// contacted.
func (e *Engine) Check(ctx context.Context) (*Validation, error) {
	src, err := e.ReadSource(ctx)
	if err != nil {
		return nil, err
	}
	p, err := e.Validate(src)
	if err != nil {
		return nil, err
	}
	v := &Validation{
		Config:   e.Cfg.File,
		Mapping:  ValidationMapping{File: e.Mapping.File, Attributes: len(e.Mapping.Attrs), MatchSource: e.Mapping.Match.Source.Source(), MatchTarget: e.Mapping.Match.Target.Name},
		Source:   ValidationSource{Name: src.Name, Records: src.Summary.Records, Columns: len(src.Summary.Header)},
		Warnings: []plan.Warning{},
	}
	for _, w := range p.Warnings {
		// Whether a manager has an account depends on the directory,
		// which validate does not read.
		if w.Code == plan.WarnManagerNotFound || w.Code == plan.WarnManagerUnresolved {
			continue
		}
		w.Severity = plan.Severity(w.Code)
		v.Warnings = append(v.Warnings, w)
		if w.Problem() {
			v.Problems++
		} else {
			v.Notes++
		}
	}
	v.Unusable = len(src.Rejected) + duplicates(p)
	v.Clean = src.Summary.Records - v.Unusable
	return v, nil
}

// duplicates counts the records whose key other records share.
func duplicates(p *plan.Plan) int {
	n := 0
	for _, w := range p.Warnings {
		if w.Code == plan.WarnDuplicateKey {
			n += len(w.Sources)
		}
	}
	return n
}

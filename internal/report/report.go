// Package report holds the outcome of an apply — one result per plan
// action and the counts — as apply produces it and reports, renderers and
// pipelines read it. It depends on nothing else of hrsync's, so a renderer
// needs neither apply nor a directory's SDK.
package report

import "time"

// Status of an action in the report.
const (
	StatusDone       = "done"
	StatusFailed     = "failed"
	StatusPartial    = "partial" // some steps done (e.g. created), a later one failed (e.g. the manager)
	StatusRefused    = "refused" // not attempted: the user changed since the plan
	StatusNotStarted = "not_started"
)

// Result is the outcome of one plan action.
type Result struct {
	Action string `json:"action"`
	Key    string `json:"key"`
	ID     string `json:"id,omitempty"`
	// Attributes lists the attributes written.
	Attributes []string `json:"attributes"`
	Status     string   `json:"status"`
	// Note says how an action converged, e.g. that a create found the user
	// already there from an earlier, interrupted apply.
	Note      string `json:"note,omitempty"`
	ErrorCode string `json:"error_code,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Report is the outcome of one apply.
type Report struct {
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Done       int       `json:"done"`
	Failed     int       `json:"failed"`
	Partial    int       `json:"partial"`
	Refused    int       `json:"refused"`
	NotStarted int       `json:"not_started"`
	// Stopped says why the run ended before all its writes were sent
	// (Ctrl-C, the run's timeout); "" when it ran to its end.
	Stopped string   `json:"stopped,omitempty"`
	Results []Result `json:"results"`
}

// Incomplete is the number of actions not fully carried out.
func (r *Report) Incomplete() int { return r.Failed + r.Partial + r.Refused + r.NotStarted }

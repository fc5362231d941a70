package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// planInfo is what the harness needs from a saved plan. It is read with a
// streaming decoder, one action at a time, so a plan of 500,000 users is
// never held whole.
type planInfo struct {
	Summary struct {
		Create    int `json:"create"`
		Update    int `json:"update"`
		Disable   int `json:"disable"`
		Enable    int `json:"enable"`
		Delete    int `json:"delete"`
		Unchanged int `json:"unchanged"`
		Skipped   int `json:"skipped"`
		Managed   int `json:"managed"`
	}
	Applyable bool
	Blocked   []string
	Warnings  map[string]int // by code
	// MinWrites is the fewest writes that carry the plan out: one create
	// or patch per action that has one, one manager reference per action
	// that changes the manager.
	MinWrites int64
}

// Changes is the number of actions.
func (p *planInfo) Changes() int {
	s := p.Summary
	return s.Create + s.Update + s.Disable + s.Enable + s.Delete
}

// readPlan reads the parts of a saved plan the harness reports.
func readPlan(path string) (*planInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	defer f.Close()
	p := &planInfo{Warnings: map[string]int{}}
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	err = walkObject(dec, func(key string) error {
		switch key {
		case "summary":
			return dec.Decode(&p.Summary)
		case "applyable":
			return dec.Decode(&p.Applyable)
		case "blocked":
			return dec.Decode(&p.Blocked)
		case "actions":
			return walkArray(dec, func() error {
				var a struct {
					Action  string `json:"action"`
					Changes []struct {
						Attribute string `json:"attribute"`
					} `json:"changes"`
					Manager json.RawMessage `json:"manager"`
				}
				if err := dec.Decode(&a); err != nil {
					return err
				}
				patch := a.Action == "create"
				for _, c := range a.Changes {
					if c.Attribute != "manager" {
						patch = true
					}
				}
				if patch {
					p.MinWrites++
				}
				if len(a.Manager) > 0 && string(a.Manager) != "null" {
					p.MinWrites++
				}
				return nil
			})
		case "warnings":
			return walkArray(dec, func() error {
				var w struct {
					Code string `json:"code"`
				}
				if err := dec.Decode(&w); err != nil {
					return err
				}
				p.Warnings[w.Code]++
				return nil
			})
		default:
			var skip json.RawMessage
			return dec.Decode(&skip)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read plan %s: %w", path, err)
	}
	return p, nil
}

// applyReport is the top of hrsync's JSON apply report, with the results
// counted by status and the first errors kept.
type applyReport struct {
	Done, Failed, Partial, Refused, NotStarted int
	Errors                                     map[string]int // by error code (or "other")
	FirstErrors                                []string
}

// Incomplete is the number of actions not fully carried out.
func (r *applyReport) Incomplete() int { return r.Failed + r.Partial + r.Refused + r.NotStarted }

// readReport reads an apply report written with --report FILE.json.
func readReport(path string) (*applyReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read apply report: %w", err)
	}
	defer f.Close()
	r := &applyReport{Errors: map[string]int{}}
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	err = walkObject(dec, func(key string) error {
		switch key {
		case "done":
			return dec.Decode(&r.Done)
		case "failed":
			return dec.Decode(&r.Failed)
		case "partial":
			return dec.Decode(&r.Partial)
		case "refused":
			return dec.Decode(&r.Refused)
		case "not_started":
			return dec.Decode(&r.NotStarted)
		case "results":
			return walkArray(dec, func() error {
				var res struct {
					Key       string `json:"key"`
					Status    string `json:"status"`
					ErrorCode string `json:"error_code"`
					Error     string `json:"error"`
				}
				if err := dec.Decode(&res); err != nil {
					return err
				}
				if res.Error == "" {
					return nil
				}
				code := res.ErrorCode
				if code == "" {
					code = "other"
				}
				r.Errors[code]++
				if len(r.FirstErrors) < 3 {
					r.FirstErrors = append(r.FirstErrors, fmt.Sprintf("%s %s: %s", res.Status, res.Key, res.Error))
				}
				return nil
			})
		default:
			var skip json.RawMessage
			return dec.Decode(&skip)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read apply report %s: %w", path, err)
	}
	return r, nil
}

// walkObject reads a JSON object, calling field for each key with the
// decoder positioned at the value, which field must consume.
func walkObject(dec *json.Decoder, field func(key string) error) error {
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("expected an object key, got %v", tok)
		}
		if err := field(key); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return expectDelim(dec, '}')
}

// walkArray reads a JSON array (or null), calling elem for each element
// with the decoder positioned at it.
func walkArray(dec *json.Decoder, elem func() error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("expected an array, got %v", tok)
	}
	for dec.More() {
		if err := elem(); err != nil {
			return err
		}
	}
	return expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("unexpected end of file, expected %v", want)
	}
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %v, got %v", want, tok)
	}
	return nil
}

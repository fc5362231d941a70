package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/config"
	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/mapping"
	"github.com/hrsync/hrsync/internal/targets"
)

// failingDir is a directory whose user read fails; a slow one fails only
// when its read is cancelled (or after a minute: on a loaded machine 5 s
// was once shorter than reading the source up to its bad row).
type failingDir struct {
	directory.Directory
	err     error
	slow    bool
	reading chan struct{} // closed when the user read begins (nil: none)
	once    *sync.Once    // closes reading once
}

func (d failingDir) ReadUsers(ctx context.Context, q directory.Query, progress func(int)) ([]identity.User, error) {
	if d.reading != nil {
		d.once.Do(func() { close(d.reading) })
	}
	if d.slow {
		select {
		case <-ctx.Done():
		case <-time.After(time.Minute):
		}
	}
	return nil, d.err
}

// gatedProgress holds the source read at its first progress step (record
// 1000) until the directory read began: the source then fails only once
// the directory is being read, however the goroutines are scheduled.
type gatedProgress struct{ open <-chan struct{} }

func (g gatedProgress) Start(what string, _ int) Counter {
	if strings.HasPrefix(what, "reading users of ") {
		return noCounter{}
	}
	return g
}

func (g gatedProgress) Set(int) {
	select {
	case <-g.open:
	case <-time.After(time.Minute):
	}
}

func (gatedProgress) Done() {}

// The source and the directory are read side by side, but a source that
// is missing, empty or lacks a column the mapping needs is reported without
// contacting the directory; a source failing later is the error reported
// even when the directory fails too; a directory failure is reported when
// the source is fine.
func TestMakePlanReadsSideBySideAndReportsTheSourceFirst(t *testing.T) {
	rows := func(n int, bad int) string {
		var b strings.Builder
		b.WriteString("WorkerID,FirstName,LastName,Department,Len\n")
		for i := 1; i <= n; i++ {
			if i == bad {
				b.WriteString("\"unterminated\n")
				continue
			}
			fmt.Fprintf(&b, "%d,Ann%d,Lee,Sales,3\n", i, i)
		}
		return b.String()
	}
	tests := []struct {
		name      string
		csv       string
		dirErr    error
		slow      bool
		opened    bool
		wantInErr string
	}{
		{"empty source", "WorkerID,FirstName,LastName,Department,Len\n", nil, false, false, "no data records"},
		{"missing column", "WorkerID,FirstName,LastName,Department\n1,A,B,C\n", nil, false, false, "field [Len] is not a column"},
		{"late source error wins", rows(3000, 2900), errors.New("directory down"), true, true, "hr.csv:2901"},
		{"directory error", rows(50, 0), errors.New("directory down"), false, true, "directory down"},
		{"fine", rows(50, 0), nil, false, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, tt.csv)
			var opened atomic.Bool
			reading := make(chan struct{})
			if tt.slow {
				e.Progress = gatedProgress{open: reading}
			}
			e.open = func(ctx context.Context, cfg *config.Config, log *slog.Logger) (directory.Directory, error) {
				opened.Store(true)
				d, err := targets.Open(ctx, cfg, log)
				if err != nil || tt.dirErr == nil {
					return d, err
				}
				return failingDir{Directory: d, err: tt.dirErr, slow: tt.slow, reading: reading, once: &sync.Once{}}, nil
			}
			p, _, err := e.MakePlan(context.Background())
			if opened.Load() != tt.opened {
				t.Errorf("directory opened: %v, want %v", opened.Load(), tt.opened)
			}
			if tt.wantInErr == "" {
				if err != nil || p == nil {
					t.Fatalf("plan %v, err %v", p, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Fatalf("err = %v, want one with %q", err, tt.wantInErr)
			}
			var me *mapping.Error
			if tt.name == "missing column" && !errors.As(err, &me) {
				t.Errorf("err %T is not the mapping's error", err)
			}
		})
	}
}

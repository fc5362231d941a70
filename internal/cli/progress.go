package cli

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/hrsync/hrsync/internal/engine"
)

// barProgress draws progress bars on stderr; used only when it is a terminal.
type barProgress struct{ w io.Writer }

func (p barProgress) Start(what string, total int) engine.Counter {
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSpinnerType(14),
	)
	return &barCounter{bar: bar}
}

type barCounter struct{ bar *progressbar.ProgressBar }

func (c *barCounter) Set(n int) { _ = c.bar.Set(n) }
func (c *barCounter) Done()     { _ = c.bar.Finish() }

package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"triage/internal/printable"
)

// runLog is the audit trail written to run.log: every action and every
// error, one timestamped line each, mirrored to the console when there is
// one. Each line is escaped as a whole, so a newline or an escape sequence
// in a name from the evidence can neither forge an audit line nor reach the
// terminal; run.log is for people to read, the manifest keeps the names
// byte-exact.
type runLog struct {
	mu      sync.Mutex
	w       io.Writer
	console *console // nil: run.log only
	now     func() time.Time
	err     error // the first write to w that failed
}

func (l *runLog) Printf(format string, args ...any) {
	line := printable.Escape(fmt.Sprintf(format, args...))
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := fmt.Fprintf(l.w, "%s %s\n", l.now().UTC().Format(time.RFC3339), line); err != nil && l.err == nil {
		l.err = err
	}
	if l.console != nil {
		l.console.logLine(line)
	}
}

// Err is the first error writing run.log, if any.
func (l *runLog) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// console is the one printer of stderr while a run goes on. On a terminal
// it draws a progress bar, and a log line that matters is printed above
// it: the bar is cleared, the line printed, the bar drawn again, so an
// error, a skipped file or where the outputs went is never hidden by it.
// Elsewhere (a pipe, a file) every log line is printed and there is no bar.
type console struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	bar      *progressbar.ProgressBar // the bar on screen, or nil
}

func newConsole(w io.Writer, terminal bool) *console {
	return &console{w: w, terminal: terminal}
}

// logLine prints an already escaped log line.
func (c *console) logLine(line string) {
	if c.terminal && !mattersOnTerminal(line) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bar != nil {
		c.bar.Clear()
	}
	fmt.Fprintf(c.w, "triage: %s\n", line)
	if c.bar != nil {
		c.bar.RenderBlank()
	}
}

// mattersOnTerminal picks, from the log lines, the ones a terminal shows
// above the bar: errors (integrity, skipped files, artifacts that could not
// be read whole) and the line that says where the outputs went. A line
// that must reach the examiner starts with one of these words; everything
// is in run.log.
func mattersOnTerminal(line string) bool {
	lower := strings.ToLower(line)
	for _, prefix := range []string{"error", "warning", "skipped", "not examined", "finished"} {
		if strings.HasPrefix(lower, prefix) {
			return true
		}
	}
	// An artifact's outcome line: a damaged or failed one is an error.
	return strings.HasPrefix(lower, "parsed ") &&
		(strings.Contains(lower, ", status failed") || strings.Contains(lower, ", status damaged"))
}

// startBar shows a progress bar of total bytes on a terminal; update adds
// done bytes and sets the description, finish removes the bar. Off a
// terminal both do nothing.
func (c *console) startBar(total int64, description string) (update func(done int64, description string), finish func()) {
	if !c.terminal {
		return func(int64, string) {}, func() {}
	}
	bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(c.w), progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription(printable.Escape(description)), progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
	c.mu.Lock()
	c.bar = bar
	c.mu.Unlock()
	update = func(done int64, description string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		bar.Describe(printable.Escape(description))
		bar.Add64(done)
	}
	finish = func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		bar.Finish() // clears it, with OptionClearOnFinish
		c.bar = nil
	}
	return update, finish
}

package report

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// ErrNoChromium is returned when --pdf is asked for and no chromium is
// installed.
var ErrNoChromium = errors.New("report: --pdf needs chromium (Debian package chromium), which is not installed")

// defaultPDFTimeout bounds chromium's printing: a browser that hangs on a
// large report must not hold the run forever.
const defaultPDFTimeout = 3 * time.Minute

// chromiumFlags start a headless browser that makes no network connection
// of its own.
var chromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync"}

// chromiumNames are the names chromium is installed under; a test points
// it at a stand-in.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome"}

// findChromium returns the browser's path.
func findChromium() (string, error) {
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// CheckPDF reports whether a PDF can be printed, so that a run asked for
// one fails before it starts rather than at its end.
func CheckPDF() error {
	_, err := findChromium()
	return err
}

func printPDF(opts Options) error {
	browser, err := findChromium()
	if err != nil {
		return err
	}
	tmp := opts.TempDir
	if tmp == "" {
		tmp = opts.OutDir
	}
	profile, err := os.MkdirTemp(tmp, ".chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	timeout := opts.PDFTimeout
	if timeout <= 0 {
		timeout = defaultPDFTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	abs, _ := filepath.Abs(filepath.Join(opts.OutDir, "report.html"))
	partial := filepath.Join(profile, "report.pdf")
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+profile,
		"--print-to-pdf="+partial, "--no-pdf-header-footer", "file://"+abs)
	cmd := exec.CommandContext(ctx, browser, args...)
	// Chromium starts helper processes: the timeout stops them all.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second // a child holding the output pipe open must not hold us too
	out, err := cmd.CombinedOutput()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("report: chromium did not print report.pdf within %v and was stopped", timeout)
	}
	if err != nil {
		return fmt.Errorf("report: chromium --print-to-pdf: %v: %s", err, out)
	}
	if st, err := os.Stat(partial); err != nil || st.Size() == 0 {
		return fmt.Errorf("report: chromium exited without printing report.pdf: %s", out)
	}
	return os.Rename(partial, filepath.Join(opts.OutDir, "report.pdf"))
}

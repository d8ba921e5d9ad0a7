package report

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ErrNoChromium is returned when --pdf is asked for and no chromium is
// installed.
var ErrNoChromium = errors.New("report: --pdf needs chromium (Debian package chromium), which is not installed")

// chromiumFlags start a headless browser that makes no network connection
// of its own.
var chromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync"}

// findChromium returns the browser's path.
func findChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

func printPDF(dir string) error {
	browser, err := findChromium()
	if err != nil {
		return err
	}
	profile, err := os.MkdirTemp("", "triage-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	abs, _ := filepath.Abs(filepath.Join(dir, "report.html"))
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+profile,
		"--print-to-pdf="+filepath.Join(dir, "report.pdf"), "--no-pdf-header-footer", "file://"+abs)
	if out, err := exec.Command(browser, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("report: chromium --print-to-pdf: %v: %s", err, out)
	}
	return nil
}

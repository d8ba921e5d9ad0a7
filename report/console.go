package report

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"golang.org/x/term"
	"golang.org/x/text/width"

	"triage/internal/printable"
)

// DefaultConsoleWidth is the width the console tables fit when stdout is
// not a terminal, nor COLUMNS set: a log or a pasted transcript is read
// in windows of about 80 columns.
const DefaultConsoleWidth = 80

// minConsoleWidth is the narrowest width a table is fitted to; below it a
// terminal wraps the lines whatever we do.
const minConsoleWidth = 40

// ConsoleWidth is the width the summary tables printed to w must fit: the
// terminal's, when w is one; else COLUMNS, when set; else 80.
func ConsoleWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return max(cols, minConsoleWidth)
		}
	}
	if cols, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && cols > 0 {
		return max(cols, minConsoleWidth)
	}
	return DefaultConsoleWidth
}

// FitTable writes the first layout whose widest line fits in cols columns,
// or the last, the narrowest, if none does. Layouts go from the richest to
// the most compact; each renders the same rows.
func FitTable(w io.Writer, cols int, layouts ...func(io.Writer) error) error {
	var buf bytes.Buffer
	for i, layout := range layouts {
		buf.Reset()
		if err := layout(&buf); err != nil {
			return err
		}
		if i == len(layouts)-1 || TextWidth(buf.String()) <= cols {
			break
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// TextWidth is the width of the widest line of s in terminal columns: East
// Asian wide and fullwidth characters take two, combining marks none.
func TextWidth(s string) int {
	widest := 0
	for _, line := range strings.Split(s, "\n") {
		n := 0
		for _, r := range line {
			switch k := width.LookupRune(r).Kind(); {
			case k == width.EastAsianWide || k == width.EastAsianFullwidth:
				n += 2
			case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r):
			default:
				n++
			}
		}
		widest = max(widest, n)
	}
	return widest
}

// wrapWords breaks s into lines of at most cols columns at spaces, and a
// word longer than that where it reaches cols; the lines are joined with
// "\n", which the table renders as one cell of several lines.
func wrapWords(s string, cols int) string {
	if TextWidth(s) <= cols {
		return s
	}
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		for TextWidth(word) > cols {
			if line != "" {
				lines, line = append(lines, line), ""
			}
			head := cutWidth(word, cols)
			lines, word = append(lines, head), word[len(head):]
		}
		switch {
		case line == "":
			line = word
		case TextWidth(line+" "+word) <= cols:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return strings.Join(append(lines, line), "\n")
}

// ConsoleSummary prints a table of findings by technique and severity,
// fitted to ConsoleWidth(w).
func ConsoleSummary(db *sql.DB, w io.Writer) error {
	return consoleSummary(db, w, ConsoleWidth(w))
}

type techniqueCounts struct {
	id, name                      string
	crit, high, med, low, info, n int
}

func consoleSummary(db *sql.DB, w io.Writer, cols int) error {
	rows, err := db.Query(`SELECT technique_id, technique_name,
		sum(severity='critical'), sum(severity='high'), sum(severity='medium'), sum(severity='low'), sum(severity='informational'), count(*)
		FROM findings GROUP BY technique_id, technique_name ORDER BY technique_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var all []techniqueCounts
	for rows.Next() {
		var c techniqueCounts
		if err := rows.Scan(&c.id, &c.name, &c.crit, &c.high, &c.med, &c.low, &c.info, &c.n); err != nil {
			return err
		}
		c.id, c.name = printable.Escape(c.id), printable.Escape(c.name)
		all = append(all, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(all) == 0 {
		_, err := fmt.Fprintln(w, "no findings")
		return err
	}
	full := func(w io.Writer) error {
		t := tablewriter.NewWriter(w)
		t.Header("Technique", "Name", "Critical", "High", "Medium", "Low", "Info", "Total")
		for _, c := range all {
			t.Append(c.id, c.name, c.crit, c.high, c.med, c.low, c.info, c.n)
		}
		return t.Render()
	}
	// Narrower: a sub-technique by its own name (the parent's is the row
	// above it, or the technique id says it), wrapped to what is left of
	// the width, and the severities abbreviated.
	compact := func(w io.Writer) error {
		const fixed = len("T1059.001") + len("Crit") + len("High") + len("Med") + len("Low") + len("Info") + len("Total") + 8*3 + 1
		t := tablewriter.NewWriter(w)
		t.Header("Technique", "Name", "Crit", "High", "Med", "Low", "Info", "Total")
		for _, c := range all {
			name := c.name
			if _, sub, ok := strings.Cut(name, ": "); ok {
				name = sub
			}
			t.Append(c.id, wrapWords(name, max(cols-fixed, 10)), c.crit, c.high, c.med, c.low, c.info, c.n)
		}
		return t.Render()
	}
	return FitTable(w, cols, full, compact)
}

// cutWidth is the longest prefix of s, at least one rune, that fits in
// cols columns.
func cutWidth(s string, cols int) string {
	end := 0
	for end < len(s) {
		_, size := utf8.DecodeRuneInString(s[end:])
		if end > 0 && TextWidth(s[:end+size]) > cols {
			break
		}
		end += size
	}
	return s[:end]
}

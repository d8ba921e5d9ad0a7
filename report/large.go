package report

import "strings"

// A case of many hosts holds thousands of artifacts, nearly all of them read
// cleanly. Listed one a row, parse completeness alone made a 30-host
// report's largest section; past completenessRowsListed artifacts it lists
// only those with something to say (failed or damaged, errors, recovered
// or missing records, a flag other than dirty, which any log of a running
// system is) and totals the rest per host and kind. The evidence manifest
// still lists every artifact with its hashes.
const completenessRowsListed = 500

// kindTotal sums one host's artifacts of one kind that read cleanly.
type kindTotal struct {
	Host, Kind         string
	Artifacts, Records int
}

// completeness chooses the parse completeness rows.
type completeness struct {
	Rows    []artifact
	Clean   []kindTotal // set when the clean artifacts are totalled instead of listed
	Omitted int         // clean artifacts not listed
}

func (a *artifact) notable() bool {
	return a.Status != "ok" || a.ErrorCount > 0 || a.Recovered > 0 || a.Missing > 0 ||
		strings.Trim(strings.ReplaceAll(a.Flags, "dirty", ""), ", ") != ""
}

func summarizeCompleteness(all []artifact) completeness {
	if len(all) <= completenessRowsListed {
		return completeness{Rows: all}
	}
	var c completeness
	index := map[[2]string]int{}
	for i := range all {
		a := &all[i]
		if a.notable() {
			c.Rows = append(c.Rows, *a)
			continue
		}
		c.Omitted++
		k := [2]string{a.Host, a.Kind}
		j, ok := index[k]
		if !ok {
			j = len(c.Clean)
			index[k] = j
			c.Clean = append(c.Clean, kindTotal{Host: a.Host, Kind: a.Kind})
		}
		c.Clean[j].Artifacts++
		c.Clean[j].Records += a.Records
	}
	return c
}

package checks

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

type jsonCheck struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	Status     Status `json:"status"`
	Evidence   string `json:"evidence"`
	Hint       string `json:"hint"`
	DurationMS int64  `json:"duration_ms"`
}

// Report is the JSON shape of a run.
type Report struct {
	Checks  []jsonCheck `json:"checks"`
	Summary Summary     `json:"summary"`
}

// WriteJSON writes rs as one JSON object:
// {"checks":[{"id","title","status","evidence","hint","duration_ms"}],"summary":{...}}.
func WriteJSON(w io.Writer, rs []Result) error {
	rep := Report{Checks: make([]jsonCheck, 0, len(rs)), Summary: Summarise(rs)}
	for _, r := range rs {
		rep.Checks = append(rep.Checks, jsonCheck{
			ID: r.ID, Title: r.Title, Status: r.Status, Evidence: r.Evidence,
			Hint: r.Hint, DurationMS: r.Duration.Milliseconds(),
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// Symbol is the one-character mark of a status (status.Status.Mark).
func Symbol(s Status) string { return s.Mark() }

// WriteTable writes rs for a person: one line per check; evidence and hints
// only under checks that did not pass (verbose shows evidence for all).
func WriteTable(w io.Writer, rs []Result, verbose bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", Symbol(r.Status), r.ID, r.Title, r.Status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rs {
		if r.Status == Pass && !verbose {
			continue
		}
		if r.Status == Skip && !verbose && r.Evidence == "" {
			continue
		}
		fmt.Fprintf(w, "\n%s %s %s\n", Symbol(r.Status), r.ID, r.Title)
		if r.Evidence != "" {
			fmt.Fprintf(w, "    found: %s\n", indent(r.Evidence))
		}
		if r.Hint != "" && r.Status != Pass {
			fmt.Fprintf(w, "    next:  %s\n", indent(r.Hint))
		}
	}
	s := Summarise(rs)
	line := fmt.Sprintf("%d passed, %d failed, %d warnings, %d skipped", s.Pass, s.Fail, s.Warn, s.Skip)
	if s.Unobservable > 0 {
		line += fmt.Sprintf(", %d cannot be observed here", s.Unobservable)
	}
	_, err := fmt.Fprintf(w, "\n%s\n", line)
	return err
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n           ") }

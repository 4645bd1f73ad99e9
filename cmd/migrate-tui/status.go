package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
	"migrate-tui/internal/tui"
)

type statusOptions struct {
	g    *globalOptions
	JSON bool
	repo string
}

func newStatusCmd(g *globalOptions) *cobra.Command {
	o := &statusOptions{g: g}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the migration plan with each step's status",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	return cmd
}

func (o *statusOptions) Complete() error {
	repo, err := o.g.RepoDir()
	o.repo = repo
	return err
}

// statusStep is one step in `status --json`.
type statusStep struct {
	ID         string       `json:"id"`
	Kind       steps.Kind   `json:"kind"`
	Phase      string       `json:"phase"`
	Title      string       `json:"title"`
	Status     steps.Status `json:"status"`
	StartedAt  *time.Time   `json:"started_at,omitempty"`
	FinishedAt *time.Time   `json:"finished_at,omitempty"`
	Evidence   []string     `json:"evidence,omitempty"`
	Error      string       `json:"error,omitempty"`
	BlockedBy  []string     `json:"blocked_by,omitempty"`
}

type statusReport struct {
	Repository string               `json:"repository"`
	StateFile  string               `json:"state_file"`
	Started    bool                 `json:"started"`
	Next       string               `json:"next,omitempty"`
	Counts     map[steps.Status]int `json:"counts"`
	Steps      []statusStep         `json:"steps"`
	Decisions  map[string]any       `json:"decisions"`
	Lock       *state.Holder        `json:"lock,omitempty"`
	Sources    map[string]string    `json:"decision_sources,omitempty"`
}

func buildStatus(repo string) (*statusReport, error) {
	st, err := state.Load(repo)
	if err != nil {
		return nil, err
	}
	r := &statusReport{Repository: repo, StateFile: state.Path(repo), Started: st != nil, Decisions: map[string]any{}, Sources: map[string]string{}}
	if st == nil {
		st = state.New(time.Now())
	}
	ans, err := st.Answers()
	if err != nil {
		return nil, err
	}
	for k, v := range ans {
		r.Decisions[k] = v
		r.Sources[k] = st.Decisions[k].Source
	}
	plan := steps.Default()
	r.Next = plan.FirstUnfinished(st.Steps)
	r.Counts = plan.Counts(st.Steps)
	for _, s := range plan.Steps {
		rec := st.Record(s.ID)
		ss := statusStep{ID: s.ID, Kind: s.Kind, Phase: s.Phase.String(), Title: s.Title, Status: steps.StatusOf(st.Steps, s.ID),
			StartedAt: rec.StartedAt, FinishedAt: rec.FinishedAt, Evidence: rec.Evidence, Error: rec.Error}
		if !ss.Status.Finished() {
			ss.BlockedBy = plan.Blockers(s.ID, st.Steps)
		}
		r.Steps = append(r.Steps, ss)
	}
	if h, err := state.ReadLock(repo); err == nil {
		r.Lock = h
	}
	return r, nil
}

func (o *statusOptions) Run() error {
	r, err := buildStatus(o.repo)
	if err != nil {
		return err
	}
	if o.JSON {
		enc := json.NewEncoder(o.g.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printStatus(o.g.Out, r)
	return nil
}

func printStatus(w io.Writer, r *statusReport) {
	if !r.Started {
		fmt.Fprintf(w, "No migration started in %s yet: run migrate-tui to begin with preflight.\n\n", r.Repository)
	}
	phase := ""
	for _, s := range r.Steps {
		if s.Phase != phase {
			phase = s.Phase
			fmt.Fprintf(w, "%s\n", phase)
		}
		line := fmt.Sprintf("  %s %-22s %-8s", tui.Mark(s.Status), s.ID, s.Status)
		switch {
		case s.Error != "":
			line += "  " + firstLine(s.Error)
		case len(s.Evidence) > 0:
			line += "  " + firstLine(s.Evidence[0])
		case len(s.BlockedBy) > 0 && s.ID != r.Next:
			line += "  waits for " + strings.Join(s.BlockedBy, ", ")
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	fmt.Fprintln(w)
	if r.Next == "" {
		fmt.Fprintln(w, "Every step is finished.")
	} else {
		fmt.Fprintf(w, "Next: %s. Run migrate-tui to continue there.\n", r.Next)
	}
	if len(r.Decisions) > 0 {
		fmt.Fprintf(w, "%d of %d decisions made (migrate-tui decide --list shows them all).\n", len(r.Decisions), len(decisions.All()))
	}
	if r.Lock != nil {
		fmt.Fprintf(w, "Locked by %s.\n", r.Lock)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 70 {
		s = s[:67] + "..."
	}
	return s
}

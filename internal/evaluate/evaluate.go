// Package evaluate gathers the go/no-go evidence: every success criterion's
// result through the checks' runner (as `check` runs them), SC-010's
// measured overhead per node, the services a cutover moved and their VPA
// savings (internal/rightsize), and the proposal the criteria make. It keeps
// decision.md's evidence section current through checks.FileDecision. One
// function (Gather) serves `migrate-tui evaluate` and the wizard's screen.
package evaluate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/rightsize"
	"migrate-tui/internal/state"
)

// DecisionPath is where the decision record lives in the repository.
func DecisionPath(repo string) string {
	return filepath.Join(repo, "specs", "003-nomad-to-kubernetes", "decision.md")
}

// Options configure a Gather.
type Options struct {
	// DecisionPath is the record SC-010 keeps (with the moved services and
	// savings added to its evidence); "" leaves d.Decision as it is.
	DecisionPath string
	Run          checks.RunOptions
	Rightsize    rightsize.Options
	// Observer sees each criterion's result as it comes (the screen).
	Observer checks.Observer
	Now      func() time.Time
}

// Moved is one service's cutover record, as the evidence shows it.
type Moved struct {
	Service          string     `json:"service"`
	NomadJob         string     `json:"nomad_job"`
	Phase            string     `json:"phase"`
	StoppedAt        *time.Time `json:"stopped_at,omitempty"`
	RoutingConfirmed bool       `json:"routing_confirmed"`
}

// OnKubernetes reports whether the service left Nomad.
func (m Moved) OnKubernetes() bool { return m.Phase == state.CutoverOnKubernetes }

// Record is the decision record's state after the run.
type Record struct {
	Path string `json:"path"`
	// State is "none", "draft" (the draft marker is still there) or "final".
	State string `json:"state"`
	// DraftPath is decision.draft.md when migrate-tui had to write its draft
	// beside a record it must not touch.
	DraftPath string `json:"draft_path,omitempty"`
}

// Evidence is everything the go/no-go rests on.
type Evidence struct {
	At       time.Time       `json:"at"`
	Proposal checks.Proposal `json:"proposal"`
	Checks   []checks.Result `json:"checks"`
	Summary  checks.Summary  `json:"summary"`
	// Overhead is SC-010's per-node measurement; OverheadError says why
	// there is none.
	Overhead      []checks.NodeOverhead `json:"overhead,omitempty"`
	OverheadError string                `json:"overhead_error,omitempty"`
	Moved         []Moved               `json:"moved"`
	// Rightsize is every service's VPA target beside Nomad's reservation;
	// RightsizeError says why there is none.
	Rightsize      *rightsize.Report `json:"rightsize,omitempty"`
	RightsizeError string            `json:"rightsize_error,omitempty"`
	Decision       Record            `json:"decision"`
	// DecisionError says why the record could not be written.
	DecisionError string `json:"decision_error,omitempty"`
}

// Gather runs every criterion and collects the evidence. It does not fail:
// what could not be read is in the evidence, said as such.
func Gather(ctx context.Context, d *checks.Deps, st *state.State, o Options) Evidence {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	ev := Evidence{At: now(), Moved: MovedServices(st)}
	// Right-sizing first: its figures go into the record SC-010 writes.
	if rep, err := rightsize.FromDeps(ctx, d, st, nil, o.Rightsize); err != nil {
		ev.RightsizeError = err.Error()
	} else {
		ev.Rightsize = &rep
	}
	dd := *d
	var record checks.FileDecision
	if o.DecisionPath != "" {
		extra := ExtraMarkdown(ev.Moved, ev.Rightsize, ev.RightsizeError)
		record = checks.FileDecision{Path: o.DecisionPath, Extra: func(context.Context) string { return extra }}
		dd.Decision = record
	}
	ev.Checks = checks.Run(ctx, checks.All(), &dd, o.Run, o.Observer)
	ev.Summary = checks.Summarise(ev.Checks)
	ev.Proposal = checks.Propose(ev.Checks)
	if ov, err := checks.MeasureOverhead(ctx, &dd); err != nil {
		ev.OverheadError = err.Error()
	} else {
		ev.Overhead = ov
	}
	if o.DecisionPath != "" {
		// SC-010 writes only when it could measure; the criteria's results
		// are evidence even when the metrics API is down, so the record is
		// written here from this run whatever SC-010 managed.
		if _, _, err := record.Write(ctx, checks.DecisionBody(prior(ev.Checks), ev.Overhead, ev.At)); err != nil {
			ev.DecisionError = fmt.Sprintf("writing %s: %v", o.DecisionPath, err)
		}
		ev.Decision = ReadRecord(o.DecisionPath)
	}
	return ev
}

// prior is what SC-010 summarises: every result but the final checks'.
func prior(rs []checks.Result) []checks.Result {
	var out []checks.Result
	for _, r := range rs {
		if c, ok := checks.ByID(r.ID); ok && c.Final {
			continue
		}
		out = append(out, r)
	}
	return out
}

// DecisionFile is the record `check` keeps: SC-010's evidence plus the
// services moved and their savings, read when SC-010 writes, so `check` and
// `evaluate` regenerate the same section.
func DecisionFile(d *checks.Deps, st *state.State, path string) checks.FileDecision {
	return checks.FileDecision{Path: path, Extra: func(ctx context.Context) string {
		rep, err := rightsize.FromDeps(ctx, d, st, nil, rightsize.Options{})
		if err != nil {
			return ExtraMarkdown(MovedServices(st), nil, err.Error())
		}
		return ExtraMarkdown(MovedServices(st), &rep, "")
	}}
}

// MovedServices lists the cutover records, by service.
func MovedServices(st *state.State) []Moved {
	out := []Moved{}
	if st == nil {
		return out
	}
	for svc, c := range st.Cutovers {
		out = append(out, Moved{Service: svc, NomadJob: c.NomadJob, Phase: c.Phase, StoppedAt: c.StoppedAt, RoutingConfirmed: c.RoutingConfirmedAt != nil})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out
}

// ReadRecord says whether the record at path exists and is still a draft.
func ReadRecord(path string) Record {
	r := Record{Path: path, State: "none"}
	if b, err := os.ReadFile(path); err == nil {
		r.State = "final"
		if strings.Contains(string(b), checks.DraftMarker) {
			r.State = "draft"
		}
	}
	draft := checks.FileDecision{Path: path}.DraftPath()
	if _, err := os.Stat(draft); err == nil {
		r.DraftPath = draft
	}
	return r
}

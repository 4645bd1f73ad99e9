// Package steps is the migration as data: an ordered plan of steps with
// dependencies, and the status record each step carries.
package steps

import (
	"fmt"
	"time"
)

// Kind says which kind of screen shows a step; the TUI builds screens with a
// factory keyed by Kind.
type Kind string

const (
	KindPreflight Kind = "preflight"
	KindDecision  Kind = "decision"
	KindStage     Kind = "stage"
	KindVerify    Kind = "verify"
	KindCutover   Kind = "cutover"
	KindEvaluate  Kind = "evaluate"
)

// Status of a step.
type Status string

const (
	Pending Status = "pending"
	Running Status = "running"
	Done    Status = "done"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

// Valid says whether s is one of the five statuses.
func (s Status) Valid() bool {
	switch s {
	case Pending, Running, Done, Failed, Skipped:
		return true
	}
	return false
}

// Finished says whether a step in this status lets its dependents run.
func (s Status) Finished() bool { return s == Done || s == Skipped }

// Record is a step's progress as kept in the state file.
type Record struct {
	Status     Status     `json:"status"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Evidence: short sentences of what was seen (tool paths, node counts,
	// decision values); never secrets.
	Evidence []string `json:"evidence,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// Phase groups steps as the six phases.
type Phase int

const (
	PhasePreflight Phase = iota + 1
	PhaseDecisions
	PhaseStages
	PhaseVerify
	PhaseCutover
	PhaseEvaluate
)

var phaseNames = map[Phase]string{
	PhasePreflight: "Preflight", PhaseDecisions: "Decisions", PhaseStages: "Installation stages",
	PhaseVerify: "Verify", PhaseCutover: "Cutover", PhaseEvaluate: "Evaluate",
}

func (p Phase) String() string { return phaseNames[p] }

// Step is one entry of the plan.
type Step struct {
	ID    string
	Kind  Kind
	Phase Phase
	Title string
	Why   string   // why it matters, one sentence
	Needs []string // IDs of steps that must be finished first
	// Decision screen ID for KindDecision, stage name for KindStage.
	Ref string
}

// Plan is the ordered list of steps.
type Plan struct {
	Steps []Step
	index map[string]int
}

// New builds a plan and checks it: unique IDs, known dependencies that come
// earlier in the order (so the order is a topological order, no cycles).
func New(steps []Step) (*Plan, error) {
	p := &Plan{Steps: steps, index: map[string]int{}}
	for i, s := range steps {
		if s.ID == "" {
			return nil, fmt.Errorf("step %d has no ID", i)
		}
		if _, dup := p.index[s.ID]; dup {
			return nil, fmt.Errorf("step %s is listed twice", s.ID)
		}
		for _, n := range s.Needs {
			if _, ok := p.index[n]; !ok {
				if p.has(steps, n) {
					return nil, fmt.Errorf("step %s needs %s, which comes later in the plan", s.ID, n)
				}
				return nil, fmt.Errorf("step %s needs %s, which is not in the plan", s.ID, n)
			}
		}
		p.index[s.ID] = i
	}
	return p, nil
}

func (p *Plan) has(steps []Step, id string) bool {
	for _, s := range steps {
		if s.ID == id {
			return true
		}
	}
	return false
}

// Get returns the step with the ID, or nil.
func (p *Plan) Get(id string) *Step {
	if i, ok := p.index[id]; ok {
		return &p.Steps[i]
	}
	return nil
}

// Index returns the step's position, or -1.
func (p *Plan) Index(id string) int {
	if i, ok := p.index[id]; ok {
		return i
	}
	return -1
}

// StatusOf reads a status from records; a missing record is pending.
func StatusOf(recs map[string]Record, id string) Status {
	if r, ok := recs[id]; ok && r.Status.Valid() {
		return r.Status
	}
	return Pending
}

// Blockers returns the direct dependencies of id that are not finished.
func (p *Plan) Blockers(id string, recs map[string]Record) []string {
	s := p.Get(id)
	if s == nil {
		return nil
	}
	var out []string
	for _, n := range s.Needs {
		if !StatusOf(recs, n).Finished() {
			out = append(out, n)
		}
	}
	return out
}

// FirstUnfinished returns the first step, in plan order, that is not done
// or skipped; "" when everything is finished.
func (p *Plan) FirstUnfinished(recs map[string]Record) string {
	for _, s := range p.Steps {
		if !StatusOf(recs, s.ID).Finished() {
			return s.ID
		}
	}
	return ""
}

// Dependents returns every step that depends on id, directly or not, in
// plan order.
func (p *Plan) Dependents(id string) []string {
	hit := map[string]bool{id: true}
	var out []string
	for _, s := range p.Steps {
		for _, n := range s.Needs {
			if hit[n] {
				hit[s.ID] = true
				out = append(out, s.ID)
				break
			}
		}
	}
	return out
}

// Invalidated returns the dependents of id that have left pending (done,
// failed, running or skipped): what revisiting id would put back to pending.
func (p *Plan) Invalidated(id string, recs map[string]Record) []string {
	var out []string
	for _, d := range p.Dependents(id) {
		if StatusOf(recs, d) != Pending {
			out = append(out, d)
		}
	}
	return out
}

// Counts tallies statuses over the plan.
func (p *Plan) Counts(recs map[string]Record) map[Status]int {
	c := map[Status]int{}
	for _, s := range p.Steps {
		c[StatusOf(recs, s.ID)]++
	}
	return c
}

package stageui

import (
	"context"
	"sync"

	tea "github.com/charmbracelet/bubbletea"

	"migrate-tui/internal/tfrunner"
)

// Runs owns the applies in flight, one per stage, so that the work belongs
// to the stage run and not to the screen: an operator may leave a stage's
// screen mid-apply and come back to the same apply (or its outcome). One
// Runs lives as long as the program; Wait is the program's last act.
type Runs struct {
	mu      sync.Mutex
	byStage map[string]*Run
	wg      sync.WaitGroup
}

// NewRuns returns an empty set of runs.
func NewRuns() *Runs { return &Runs{byStage: map[string]*Run{}} }

// Wait blocks until every apply started here has returned (after an
// interrupt: after Terraform's grace period), so the state lock is released
// before the program exits.
func (rs *Runs) Wait() { rs.wg.Wait() }

// Active is the stage's run a screen has not yet seen through, or nil.
func (rs *Runs) Active(stage string) *Run {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.byStage[stage]
}

// forget drops r once a screen showed its outcome; the next visit plans.
func (rs *Runs) forget(r *Run) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.byStage[r.stage] == r {
		delete(rs.byStage, r.stage)
	}
}

// start applies p in the background. Its events are drained by the run's
// own goroutine into a log (Runner.Apply never waits for a screen); ctx is
// the program's, so closing a screen does not stop the apply, quitting does.
func (rs *Runs) start(ctx context.Context, d Driver, stage string, p *tfrunner.Plan, rollback bool) *Run {
	ctx, cancel := context.WithCancel(ctx)
	r := &Run{stage: stage, rollback: rollback, plan: p, cancel: cancel, changed: make(chan struct{}), done: make(chan struct{})}
	rs.mu.Lock()
	rs.byStage[stage] = r
	rs.mu.Unlock()
	events := make(chan tfrunner.Event, 64)
	errc := make(chan error, 1)
	rs.wg.Add(1)
	go func() {
		defer rs.wg.Done()
		go func() {
			if rollback {
				errc <- d.ApplyRollback(ctx, p, events)
			} else {
				errc <- d.Apply(ctx, p, events)
			}
		}()
		for e := range events { // closed by Apply when it returns
			r.add(e)
		}
		r.finish(<-errc)
		cancel()
	}()
	return r
}

// Run is one apply (or rollback) of a stage: the events so far and, once
// Terraform returned, its error.
type Run struct {
	stage    string
	rollback bool
	plan     *tfrunner.Plan
	cancel   context.CancelFunc

	mu      sync.Mutex
	events  []tfrunner.Event
	changed chan struct{} // closed and replaced on every new event
	done    chan struct{} // closed when Apply returned
	err     error
}

// Interrupt cancels the apply: Terraform gets SIGINT and its grace period.
func (r *Run) Interrupt() { r.cancel() }

// Done is closed when the apply returned.
func (r *Run) Done() <-chan struct{} { return r.done }

// Err is the apply's error once Done is closed.
func (r *Run) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *Run) add(e tfrunner.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *Run) finish(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
	close(r.done)
}

// runMsg carries the events a screen has not shown yet; token tells the
// screen's own chain of waits from one a screen that was left still has
// in flight.
type runMsg struct {
	token  *int
	run    *Run
	events []tfrunner.Event
	done   bool
	err    error
}

// next waits until the run has events past from, or has finished.
func (r *Run) next(token *int, from int) tea.Cmd {
	return func() tea.Msg {
		for {
			r.mu.Lock()
			evs, changed := r.events[from:], r.changed
			r.mu.Unlock()
			select {
			case <-r.done:
				if len(evs) == 0 { // done is closed after the last event
					return runMsg{token: token, run: r, done: true, err: r.Err()}
				}
			default:
			}
			if len(evs) > 0 { // one event a message: one frame each, as it happened
				return runMsg{token: token, run: r, events: evs[:1:1]}
			}
			select {
			case <-changed:
			case <-r.done:
			}
		}
	}
}

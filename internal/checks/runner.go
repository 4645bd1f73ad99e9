package checks

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// RunOptions bound a run.
type RunOptions struct {
	// Concurrency is how many checks run at once (default 4).
	Concurrency int
	// Timeout bounds each check (default 30 s); a check that has not answered
	// by then fails as unreachable.
	Timeout time.Duration
	// Wait is how long an Eventually check is retried while it does not pass
	// (default 0: one attempt). It is cut short by Timeout.
	Wait time.Duration
	// RetryEvery is the pause between attempts (default 2 s).
	RetryEvery time.Duration
}

func (o RunOptions) withDefaults() RunOptions {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.RetryEvery <= 0 {
		o.RetryEvery = 2 * time.Second
	}
	return o
}

// Observer receives results as they are produced, from several goroutines
// one call at a time.
type Observer interface {
	Started(c Check)
	Done(r Result)
}

// ObserverFunc adapts a function to an Observer that ignores starts.
type ObserverFunc func(Result)

func (f ObserverFunc) Started(Check) {}
func (f ObserverFunc) Done(r Result) { f(r) }

// Run runs checks against d and returns their results in the order given.
// Final checks run after the others and see their results in Deps.Prior.
// Run never returns before every check has a result and never takes longer
// than about the checks' timeouts, whatever the checks do.
func Run(ctx context.Context, checks []Check, d *Deps, o RunOptions, obs Observer) []Result {
	o = o.withDefaults()
	if d == nil {
		d = &Deps{}
	}
	var mu sync.Mutex // serialises obs
	notify := func(f func()) {
		if obs == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		f()
	}
	results := make([]Result, len(checks))
	var first, final []int
	for i, c := range checks {
		if c.Final {
			final = append(final, i)
		} else {
			first = append(first, i)
		}
	}
	// A fresh snapshot per run: a Deps reused across runs never sees stale lists.
	snap := NewSnapshot(d.Kube, d.Dynamic, d.Decisions.Namespace())
	runBatch := func(idx []int, deps *Deps) {
		sem := make(chan struct{}, o.Concurrency)
		var wg sync.WaitGroup
		for _, i := range idx {
			wg.Add(1)
			sem <- struct{}{}
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				c := checks[i]
				notify(func() { obs.Started(c) })
				r := runOne(ctx, c, deps, o)
				results[i] = r
				notify(func() { obs.Done(r) })
			}(i)
		}
		wg.Wait()
	}
	runBatch(first, d.withSnapshot(snap))
	if len(final) > 0 {
		prior := make([]Result, 0, len(first))
		for _, i := range first {
			prior = append(prior, results[i])
		}
		fd := d.withSnapshot(snap)
		fd.Prior = prior
		runBatch(final, fd)
	}
	return results
}

// runOne runs one check with its timeout and retries.
func runOne(ctx context.Context, c Check, d *Deps, o RunOptions) Result {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var r Result
	for attempt := 0; ; attempt++ {
		deps := d
		if attempt > 0 {
			// A retry must see the world as it is now, not the run's snapshot.
			deps = d.withSnapshot(NewSnapshot(d.Kube, d.Dynamic, d.Decisions.Namespace()))
		}
		r = attemptOne(ctx, c, deps, o.Timeout)
		if !c.Eventually || r.Status == Pass || r.Status == Skip || time.Since(start) >= o.Wait {
			break
		}
		t := time.NewTimer(o.RetryEvery)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
			continue
		}
		break
	}
	r.ID, r.Title = c.ID, c.Title
	r.Duration = time.Since(start)
	if r.Status == "" {
		r.Status = Fail
		r.Evidence = "the check returned no status (a bug in migrate-tui)"
	}
	if r.Status != Pass && r.Hint == "" {
		r.Hint = c.Hint
	}
	return r
}

// attemptOne runs c.Run in its own goroutine so a check stuck in I/O that
// ignores its context still cannot hang the run.
func attemptOne(ctx context.Context, c Check, d *Deps, timeout time.Duration) Result {
	done := make(chan Result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fail(fmt.Sprintf("the check panicked: %v (a bug in migrate-tui)", p), "Report this with the output of migrate-tui check --json.")
			}
		}()
		done <- c.Run(ctx, d)
	}()
	select {
	case r := <-done:
		return r
	case <-ctx.Done():
		return fail(fmt.Sprintf("unreachable: no answer within %s (%v)", timeout, ctx.Err()), hintUnreachable)
	}
}

// Summary counts results by status.
type Summary struct {
	Pass int `json:"pass"`
	Fail int `json:"fail"`
	Warn int `json:"warn"`
	Skip int `json:"skip"`
	// Unobservable counts checks this environment cannot run: not failures,
	// never passes.
	Unobservable int `json:"unobservable"`
}

// Summarise counts rs.
func Summarise(rs []Result) Summary {
	var s Summary
	for _, r := range rs {
		switch r.Status {
		case Pass:
			s.Pass++
		case Fail:
			s.Fail++
		case Warn:
			s.Warn++
		case Skip:
			s.Skip++
		case Unobservable:
			s.Unobservable++
		}
	}
	return s
}

// Package decide makes decisions stick: it validates a change against the
// catalogue and the cross-checks, records it in the state, marks decision
// steps done, lists what a revisited decision invalidates, and writes
// terraform.tfvars. The TUI and `migrate-tui decide` both go through Apply,
// so they validate and write identically.
package decide

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/faultpoint"
	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
	"migrate-tui/internal/tfvars"
)

// Outcome says what Apply did.
type Outcome struct {
	Changed     []string // keys whose value changed (or were decided for the first time)
	Derived     []string // sentences for values that followed from the change
	Invalidated []string // steps put back to pending because a decision they used changed
	// Why holds, per invalidated step, the changed keys it used.
	Why        map[string][]string
	Completed  []string // decision steps now done
	TfvarsPath string
}

// Preview computes, without changing anything, what applying changes would
// invalidate and whether the cross-checks refuse it.
func Preview(st *state.State, changes decisions.Answers) (next decisions.Answers, notes []string, invalidated []string, err error) {
	cur, err := st.Answers()
	if err != nil {
		return nil, nil, nil, err
	}
	ctx := st.DecisionContext()
	next = cur.Clone()
	changed := map[string]bool{}
	for k, v := range changes {
		d := decisions.Get(k)
		if d == nil {
			return nil, nil, nil, decisions.UnknownKeyError(k)
		}
		if err := d.Check(v); err != nil {
			return nil, nil, nil, err
		}
		next[k] = v
		changed[k] = true
	}
	next, notes = decisions.Derive(next, changed, ctx)
	if conf := decisions.Check(next, ctx); len(conf) > 0 {
		return nil, nil, nil, decisions.ConflictsError(conf)
	}
	invalidated, _ = Invalidation(st, cur, next)
	return next, notes, invalidated, nil
}

// Invalidation returns the steps a change from cur to next sends back to
// pending, in plan order, and why (the changed keys each one used). Only
// the stages whose work uses a changed key (steps.StageKeys) go back, and
// with them the later checks that vouched for them (verify, cutover,
// evaluate) when they had run. Decisions are data: no decision step is
// reset, and a stage never goes back for a value it does not use (before,
// any change sent stage.cluster, which needs every decision screen, back
// to a reinstall).
func Invalidation(st *state.State, cur, next decisions.Answers) ([]string, map[string][]string) {
	plan := steps.Default()
	why := map[string][]string{}
	for _, k := range sortedKeys(next) {
		old, had := cur[k]
		if !had || decisions.Equal(old, next[k]) {
			continue
		}
		for _, stage := range steps.StagesUsing(k) {
			id := "stage." + stage
			if steps.StatusOf(st.Steps, id) == steps.Pending {
				continue
			}
			why[id] = append(why[id], k)
			for _, d := range plan.Invalidated(id, st.Steps) {
				if kind := plan.Get(d).Kind; kind != steps.KindStage && kind != steps.KindDecision && !slices.Contains(why[d], k) {
					why[d] = append(why[d], k)
				}
			}
		}
	}
	var ids []string
	for id := range why {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return plan.Index(ids[i]) < plan.Index(ids[j]) })
	return ids, why
}

// InvalidationReason is the sentence decide prints and the state keeps on
// an invalidated step (status shows it).
func InvalidationReason(keys []string) string {
	return "pending again: it used " + strings.Join(keys, ", ") + ", which changed"
}

// Apply validates changes, records them in st (with source), writes
// terraform.tfvars in repoDir and saves the state. The caller holds the
// repository lock. Nothing is changed when it returns an error.
func Apply(repoDir string, st *state.State, changes decisions.Answers, source string, now time.Time) (Outcome, error) {
	var out Outcome
	cur, err := st.Answers()
	if err != nil {
		return out, err
	}
	next, notes, invalidated, err := Preview(st, changes)
	if err != nil {
		return out, err
	}
	out.Derived, out.Invalidated = notes, invalidated
	// Work on a copy so a failed write leaves st as it was.
	work := *st
	work.Decisions = map[string]state.Decision{}
	for k, v := range st.Decisions {
		work.Decisions[k] = v
	}
	work.Steps = map[string]steps.Record{}
	for k, v := range st.Steps {
		work.Steps[k] = v
	}
	for _, k := range decisions.Keys() {
		v, ok := next[k]
		if !ok {
			continue
		}
		if old, had := cur[k]; had && decisions.Equal(old, v) {
			if _, explicit := changes[k]; !explicit {
				continue
			}
		}
		src := source
		if _, explicit := changes[k]; !explicit {
			src = source + " (derived)"
		}
		if old, had := cur[k]; !had || !decisions.Equal(old, v) {
			out.Changed = append(out.Changed, k)
		}
		if err := work.SetDecision(k, v, src, now); err != nil {
			return out, err
		}
	}
	_, why := Invalidation(st, cur, next)
	out.Why = why
	for _, id := range invalidated {
		work.Invalidate(id, InvalidationReason(why[id]), now)
	}
	out.Completed = completeSteps(&work, now)

	out.TfvarsPath = filepath.Join(repoDir, tfvars.FileName)
	if err := WriteTfvars(out.TfvarsPath, &work); err != nil {
		return out, err
	}
	faultpoint.Hit(faultpoint.DecideBetweenWrites)
	if err := state.Save(repoDir, &work, now); err != nil {
		return out, fmt.Errorf("%s was written, but saving the state failed: %w", out.TfvarsPath, err)
	}
	*st = work
	return out, nil
}

// WriteTfvars writes every decided value to terraform.tfvars.
func WriteTfvars(path string, st *state.State) error {
	ans, err := st.Answers()
	if err != nil {
		return err
	}
	set := map[string]cty.Value{}
	for k, v := range ans {
		set[k] = decisions.Get(k).Cty(v)
	}
	return tfvars.Update(path, set, decisions.Keys())
}

// Asked returns the keys a screen asks given the answers so far.
func Asked(screen string, a decisions.Answers) []*decisions.Decision {
	var out []*decisions.Decision
	for _, d := range decisions.ForScreen(screen) {
		if d.AskWhen == nil || d.AskWhen(a) {
			out = append(out, d)
		}
	}
	return out
}

// completeSteps marks done every decision step whose asked keys are all
// decided, with the values as evidence.
func completeSteps(st *state.State, now time.Time) []string {
	ans, _ := st.Answers()
	var done []string
	for _, sc := range decisions.Screens {
		id := "decide." + sc.ID
		var ev []string
		complete := true
		for _, d := range Asked(sc.ID, ans) {
			v, ok := ans[d.Key]
			if !ok {
				complete = false
				break
			}
			ev = append(ev, d.Key+" = "+d.Text(v))
		}
		if !complete {
			continue
		}
		rec := st.Record(id)
		if rec.Status == steps.Done && strings.Join(rec.Evidence, "\n") == strings.Join(ev, "\n") {
			continue
		}
		st.Finish(id, steps.Done, ev, "", now)
		done = append(done, id)
	}
	return done
}

func sortedKeys(a decisions.Answers) []string {
	out := make([]string, 0, len(a))
	for k := range a {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// FromTfvars reads the decision keys already set in a terraform.tfvars (a
// hand-written file, or one copied from terraform.tfvars.example), so the
// wizard's forms start from them. Values that do not pass the catalogue's
// validation are left out and named in skipped.
func FromTfvars(path string) (found decisions.Answers, skipped []string, err error) {
	vals, nonConst, err := tfvars.Read(path)
	if err != nil {
		return nil, nil, err
	}
	found = decisions.Answers{}
	for _, k := range decisions.Keys() {
		v, ok := vals[k]
		if !ok {
			continue
		}
		a, err := decisions.Get(k).FromCty(v)
		if err != nil {
			skipped = append(skipped, err.Error())
			continue
		}
		found[k] = a
	}
	for _, k := range nonConst {
		if decisions.Get(k) != nil {
			skipped = append(skipped, k+": not a constant value")
		}
	}
	return found, skipped, nil
}

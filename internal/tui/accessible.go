package tui

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/huh"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/decisions/decide"
	"migrate-tui/internal/preflight"
	"migrate-tui/internal/state"
	"migrate-tui/internal/status"
	"migrate-tui/internal/steps"
)

// RunAccessible is the wizard for screen readers and plain terminals: no
// full-screen redraws, one prompt per line through huh's accessible mode.
// It walks the unfinished steps in order, runs preflight, asks each decision
// (already decided ones are shown, not asked) and stops at the first step it
// cannot run.
func RunAccessible(o Options, in io.Reader, out io.Writer) error {
	c := newCommon(o)
	// huh reads each answer with a fresh scanner; hand it one line per Read
	// so nothing typed ahead is lost.
	r := &lineReader{r: bufio.NewReader(in)}
	st, err := state.LoadOrNew(o.RepoDir, c.Opts.Now())
	if err != nil {
		return err
	}
	if o.Notice != "" {
		fmt.Fprintln(out, o.Notice)
	}
	counts := c.Plan.Counts(st.Steps)
	fmt.Fprintf(out, "migrate-tui: %d of %d steps done.\n", counts[steps.Done]+counts[steps.Skipped], len(c.Plan.Steps))
	for _, s := range c.Plan.Steps {
		rec := st.Record(s.ID)
		if rec.Status.Finished() {
			if s.Kind == steps.KindDecision {
				ans, _ := st.Answers()
				var vals []string
				for _, d := range decide.Asked(s.Ref, ans) {
					if v, ok := ans[d.Key]; ok {
						vals = append(vals, d.Key+" = "+d.Text(v))
					}
				}
				fmt.Fprintf(out, "%s %s: decided (%s).\n", Mark(rec.Status), s.Title, strings.Join(vals, ", "))
			} else {
				fmt.Fprintf(out, "%s %s: %s.\n", Mark(rec.Status), s.Title, rec.Status)
			}
			continue
		}
		switch s.Kind {
		case steps.KindPreflight:
			fmt.Fprintf(out, "\nPreflight: %s. %s\n", s.Title, s.Why)
			env := o.Preflight
			if env.Now == nil {
				env.Now = c.Opts.Now
			}
			res := preflight.Run(c.Context(), s.ID, env)
			now := c.Opts.Now()
			preflight.Record(st, res, now)
			if err := state.Save(o.RepoDir, st, now); err != nil {
				return err
			}
			for _, e := range res.Evidence {
				fmt.Fprintln(out, "  "+e)
			}
			if res.Err != nil {
				fmt.Fprintf(out, "%s %s failed: %v\nFix it and run migrate-tui --accessible again.\n", status.Fail.Mark(), s.Title, res.Err)
				return nil
			}
			fmt.Fprintf(out, "%s %s passed.\n", status.Pass.Mark(), s.Title)
		case steps.KindDecision:
			if err := askAccessible(c, s, st, r, out); err != nil {
				return err
			}
		default:
			fmt.Fprintf(out, "\nNext: %s (%s). Not available in the wizard yet; see migrate-tui status.\n", s.Title, s.ID)
			return nil
		}
	}
	return nil
}

func askAccessible(c *Common, s steps.Step, st *state.State, r io.Reader, out io.Writer) error {
	sc := decisions.ScreenByID(s.Ref)
	fmt.Fprintf(out, "\nDecision: %s. %s\n", sc.Title, sc.Why)
	for {
		fv, base := startValues(s.Ref, st, c.Opts.Existing)
		for _, d := range decisions.ForScreen(s.Ref) {
			if !fv.asked(d, s.Ref, base) {
				continue
			}
			if len(d.Options) > 0 && d.Type == decisions.String {
				fmt.Fprintln(out)
				for _, o := range d.Options {
					fmt.Fprintf(out, "%s:\n%s\n", o.Value, optionDetail(d, o.Value, false))
				}
			}
			f := field(d, fv, false)
			f.Init()
			f.Focus()
			if err := f.WithTheme(huh.ThemeBase()).RunAccessible(out, r); err != nil {
				return err
			}
			fmt.Fprintln(out)
		}
		changes, err := fv.answers(s.Ref, base)
		if err == nil {
			var o decide.Outcome
			o, err = decide.Apply(c.Opts.RepoDir, st, changes, "wizard", c.Opts.Now())
			if err == nil {
				for _, n := range o.Derived {
					fmt.Fprintln(out, "derived: "+n)
				}
				fmt.Fprintf(out, "%s %s decided; wrote %s.\n", status.Pass.Mark(), sc.Title, o.TfvarsPath)
				return nil
			}
		}
		fmt.Fprintf(out, "%v\nAsking again.\n", err)
		if _, peekErr := r.(*lineReader).r.Peek(1); peekErr != nil {
			return fmt.Errorf("input ended while %s was refused", sc.Title)
		}
	}
}

// lineReader returns at most one line per Read.
type lineReader struct{ r *bufio.Reader }

func (l *lineReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		b, err := l.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		p[n] = b
		n++
		if b == '\n' {
			break
		}
	}
	return n, nil
}

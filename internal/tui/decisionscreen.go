package tui

import (
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/decisions/decide"
	"migrate-tui/internal/preflight"
	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
)

// fieldValues holds what a decision form's fields are bound to: text for
// inputs and selects, a list for multi-selects.
type fieldValues struct {
	text  map[string]*string
	multi map[string]*[]string
}

// startValues are what a screen's fields start from: the decided value, or
// (first time) the value terraform.tfvars already held, the suggestion from
// preflight, or the recommended default.
func startValues(screen string, st *state.State, existing decisions.Answers) (fieldValues, decisions.Answers) {
	ans, _ := st.Answers()
	fv := fieldValues{text: map[string]*string{}, multi: map[string]*[]string{}}
	for _, d := range decisions.ForScreen(screen) {
		v, ok := ans[d.Key]
		if !ok {
			v, ok = existing[d.Key]
		}
		if !ok {
			v = d.Default
			if d.Key == "nodes" && st.Preflight != nil && len(st.Preflight.Inventory) > 0 {
				v = preflight.SuggestedNodes(st.Preflight.Inventory, decisions.Effective(ans).Str("control_plane_topology"))
			}
		}
		if d.Type == decisions.StringList && len(d.Options) > 0 {
			l := append([]string(nil), v.([]string)...)
			fv.multi[d.Key] = &l
			continue
		}
		s := d.Text(v)
		fv.text[d.Key] = &s
	}
	return fv, ans
}

// answers reads the bound values back into canonical form, for the keys
// the screen asks given those values.
func (fv fieldValues) answers(screen string, base decisions.Answers) (decisions.Answers, error) {
	cur := base.Clone()
	out := decisions.Answers{}
	for _, d := range decisions.ForScreen(screen) {
		var v any
		if l, ok := fv.multi[d.Key]; ok {
			v = orderLike(*l, d.OptionValues())
			if err := d.Check(v); err != nil {
				return nil, err
			}
		} else {
			parsed, err := d.Parse(*fv.text[d.Key])
			if err != nil {
				return nil, err
			}
			v = parsed
		}
		cur[d.Key] = v
		if d.AskWhen == nil || d.AskWhen(cur) {
			out[d.Key] = v
		}
	}
	return out, nil
}

// asked says whether d applies given the form's values so far.
func (fv fieldValues) asked(d *decisions.Decision, screen string, base decisions.Answers) bool {
	if d.AskWhen == nil {
		return true
	}
	cur := base.Clone()
	for _, o := range decisions.ForScreen(screen) {
		if l, ok := fv.multi[o.Key]; ok {
			cur[o.Key] = *l
		} else if v, err := o.Parse(*fv.text[o.Key]); err == nil {
			cur[o.Key] = v
		}
	}
	return d.AskWhen(cur)
}

// orderLike keeps a multi-select's choice in catalogue order, so the same
// choice always writes the same list.
func orderLike(chosen, order []string) []string {
	out := []string{}
	for _, o := range order {
		for _, c := range chosen {
			if c == o {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

// optionDetail is a choice's description: summary, pros, cons, what it
// means here, consequences.
func optionDetail(d *decisions.Decision, value string, brief bool) string {
	o := d.Option(value)
	if o == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(o.Summary)
	if value == d.Default && !brief {
		b.WriteString(" Recommended: " + d.DefaultReason)
	}
	pros, cons := o.Pros, o.Cons
	if brief {
		pros, cons = pros[:min(2, len(pros))], cons[:min(2, len(cons))]
	}
	for _, p := range pros {
		b.WriteString("\n+ " + p)
	}
	for _, c := range cons {
		b.WriteString("\n- " + c)
	}
	b.WriteString("\nHere: " + o.Homelab)
	if !brief {
		b.WriteString("\nThen: " + o.Consequences)
	}
	return b.String()
}

// field builds the huh field of one decision.
func field(d *decisions.Decision, fv fieldValues, brief bool) huh.Field {
	switch {
	case d.Type == decisions.StringList && len(d.Options) > 0:
		opts := make([]huh.Option[string], len(d.Options))
		for i, o := range d.Options {
			opts[i] = huh.NewOption(o.Value+" — "+o.Summary, o.Value)
		}
		return huh.NewMultiSelect[string]().Key(d.Key).Title(d.Title).
			Description(d.Question + " Recommended: " + d.Text(d.Default) + ".").
			Options(opts...).Value(fv.multi[d.Key]).
			Validate(func(l []string) error { return d.Check(orderLike(l, d.OptionValues())) })
	case len(d.Options) > 0:
		return choice(d, fv, brief)
	default:
		desc := d.Question
		if def := d.Text(d.Default); def != "" {
			desc += " Recommended: " + def + "."
		}
		return huh.NewInput().Key(d.Key).Title(d.Title).Description(desc).Value(fv.text[d.Key]).
			Validate(func(s string) error { _, err := d.Parse(s); return err })
	}
}

// choice is a select of a decision's options; in the full-screen wizard the
// hovered option's details follow in a note below the options, so the
// options stay in view.
func choice(d *decisions.Decision, fv fieldValues, brief bool) *huh.Select[string] {
	opts := make([]huh.Option[string], len(d.Options))
	for i, o := range d.Options {
		label := o.Value
		if o.Value == d.Default {
			label += " (recommended)"
		}
		opts[i] = huh.NewOption(label, o.Value)
	}
	sel := huh.NewSelect[string]().Key(d.Key).Title(d.Question).Options(opts...).Value(fv.text[d.Key])
	if !brief {
		v := fv.text[d.Key]
		sel = sel.DescriptionFunc(func() string { return optionDetail(d, *v, false) }, v)
	}
	return sel
}

// details is the note under a choice that follows the hovered option. For
// the decisions that change the memory estimate (topology, mesh, ingress,
// VPA mode) it starts with each node's K3s + platform estimate beside its
// free memory from preflight, and what fits when that option does not.
func details(d *decisions.Decision, fv fieldValues, st *state.State, base decisions.Answers) huh.Field {
	v := fv.text[d.Key]
	return huh.NewNote().DescriptionFunc(func() string {
		text := optionDetail(d, *v, true)
		if decisions.MemoryKey(d.Key) {
			a := base.Clone()
			a[d.Key] = *v
			c := st.DecisionContext()
			lines := decisions.MemoryLines(decisions.EstimateMemory(a, c))
			if rec := decisions.RecommendMemory(a, c); rec != nil {
				lines = append(lines, "Recommended: "+rec.Text)
			}
			text = strings.Join(lines, "\n") + "\n" + text
		}
		return escapeNote(text)
	}, v)
}

// noteEscaper keeps huh's note markup (_italic_, *bold*, `code`) from eating
// the underscores in names such as cgroup_memory=1 or glusterfs_<service>.
var noteEscaper = strings.NewReplacer(`\`, `\\`, "_", `\_`, "*", `\*`, "`", "\\`")

func escapeNote(s string) string { return noteEscaper.Replace(s) }

// buildForm lays a screen's decisions out as huh groups: a choice with its
// details alone, conditional questions alone (hidden when they do not
// apply), other inputs two to a page.
func buildForm(screen string, fv fieldValues, base decisions.Answers, st *state.State, width, height int) *huh.Form {
	var groups []*huh.Group
	var pending []huh.Field
	flush := func() {
		if len(pending) > 0 {
			groups = append(groups, huh.NewGroup(pending...))
			pending = nil
		}
	}
	for _, d := range decisions.ForScreen(screen) {
		f := field(d, fv, true)
		if len(d.Options) > 0 || d.AskWhen != nil || d.Type == decisions.NodeList {
			flush()
			fields := []huh.Field{f}
			if len(d.Options) > 0 && d.Type == decisions.String {
				fields = append(fields, details(d, fv, st, base))
			}
			g := huh.NewGroup(fields...)
			if d.AskWhen != nil {
				d := d
				g = g.WithHideFunc(func() bool { return !fv.asked(d, screen, base) })
			}
			groups = append(groups, g)
			continue
		}
		pending = append(pending, f)
		if len(pending) == 2 {
			flush()
		}
	}
	flush()
	return huh.NewForm(groups...).WithShowHelp(false).WithTheme(huh.ThemeBase()).
		WithWidth(width).WithHeight(height)
}

type decisionMode int

const (
	modeSummary decisionMode = iota // decided: values shown, r revisits
	modeConfirm                     // revisit: what it invalidates, enter goes on
	modeForm
	modeApplying
)

// decisionScreen asks one screen of decisions with a huh form, or shows
// the values already decided.
type decisionScreen struct {
	c      *Common
	step   steps.Step
	screen string
	st     *state.State
	mode   decisionMode
	form   *huh.Form
	fv     fieldValues
	base   decisions.Answers
	refuse error
	width  int
	height int
}

func newDecisionScreen(c *Common, s steps.Step) tea.Model {
	return &decisionScreen{c: c, step: s, screen: s.Ref, width: 50, height: 20}
}

func (d *decisionScreen) Init() tea.Cmd {
	if d.form != nil {
		return d.form.Init()
	}
	return nil
}

func (d *decisionScreen) CapturesEsc() bool { return false }

func (d *decisionScreen) headerLines() int { return 3 }

func (d *decisionScreen) startForm() tea.Cmd {
	if d.fv.text == nil {
		d.fv, d.base = startValues(d.screen, d.st, d.c.Opts.Existing)
	}
	d.mode = modeForm
	h := d.height - d.headerLines()
	if d.refuse != nil {
		h -= strings.Count(wrap(d.refuse.Error(), d.width), "\n") + 2
	}
	d.form = buildForm(d.screen, d.fv, d.base, d.st, d.width, max(h, 6))
	return d.form.Init()
}

func (d *decisionScreen) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		d.width, d.height = msg.Width, msg.Height
		if d.form != nil {
			d.form = d.form.WithWidth(d.width).WithHeight(max(d.height-d.headerLines(), 6))
		}
		return d, nil
	case *state.State:
		d.st = msg
		if msg.Record(d.step.ID).Status == steps.Done {
			d.mode = modeSummary
			return d, nil
		}
		return d, d.startForm()
	case StateChangedMsg:
		if d.mode != modeApplying {
			if msg.State != nil {
				d.st = msg.State
			}
			return d, nil
		}
		if msg.Err != nil {
			// Refused: show why and ask again with the same values.
			d.refuse = msg.Err
			return d, d.startForm()
		}
		d.st, d.refuse = msg.State, nil
		id := d.step.ID
		return d, func() tea.Msg { return StepDoneMsg{StepID: id} }
	case tea.KeyMsg:
		switch d.mode {
		case modeSummary:
			if msg.String() == "r" {
				if len(d.invalidates()) == 0 {
					return d, d.startForm()
				}
				d.mode = modeConfirm
			}
			if msg.String() == "enter" {
				id := d.step.ID
				return d, func() tea.Msg { return StepDoneMsg{StepID: id} }
			}
			return d, nil
		case modeConfirm:
			switch msg.String() {
			case "enter", "y":
				return d, d.startForm()
			case "n":
				d.mode = modeSummary
			}
			return d, nil
		case modeApplying:
			return d, nil
		}
	}
	if d.mode != modeForm || d.form == nil {
		return d, nil
	}
	m, cmd := d.form.Update(msg)
	d.form = m.(*huh.Form)
	if d.form.State == huh.StateCompleted {
		return d, d.apply()
	}
	return d, cmd
}

// apply records the answers through decide.Apply (validation, cross-checks,
// state, terraform.tfvars) in a command.
func (d *decisionScreen) apply() tea.Cmd {
	changes, err := d.fv.answers(d.screen, d.base)
	if err != nil {
		d.refuse = err
		return d.startForm()
	}
	d.mode = modeApplying
	repo := d.c.Opts.RepoDir
	return d.c.Update(func(st *state.State, now time.Time) (string, error) {
		out, err := decide.Apply(repo, st, changes, "wizard", now)
		if err != nil {
			return "", err
		}
		var notes []string
		notes = append(notes, out.Derived...)
		if len(out.Invalidated) > 0 {
			notes = append(notes, "pending again: "+strings.Join(out.Invalidated, ", "))
		}
		notes = append(notes, "wrote terraform.tfvars")
		return strings.Join(notes, "; "), nil
	})
}

// invalidates lists the steps that acted on this screen's decisions.
func (d *decisionScreen) invalidates() []string {
	var out []string
	for _, id := range d.c.Plan.Invalidated(d.step.ID, d.st.Steps) {
		if d.c.Plan.Get(id).Kind != steps.KindDecision {
			out = append(out, id)
		}
	}
	return out
}

func (d *decisionScreen) Help() string {
	switch d.mode {
	case modeSummary:
		return "r revisit · enter next"
	case modeConfirm:
		return "enter revisit · n keep"
	case modeForm:
		return "↑/↓ choose · enter confirm · shift+tab back"
	}
	return "saving…"
}

func (d *decisionScreen) View() string {
	s := d.c.Styles
	var b strings.Builder
	sc := decisions.ScreenByID(d.screen)
	b.WriteString(s.Heading.Render("Decision: "+sc.Title) + "\n")
	b.WriteString(s.Dim.Render(truncate(sc.Why, d.width)) + "\n")
	switch d.mode {
	case modeSummary, modeConfirm:
		ans, _ := d.st.Answers()
		b.WriteString("\nDecided (shown, not asked again):\n")
		for _, dd := range decide.Asked(d.screen, ans) {
			v, ok := ans[dd.Key]
			if !ok {
				continue
			}
			b.WriteString(truncate(fmt.Sprintf("  %s = %s", dd.Key, dd.Text(v)), d.width) + "\n")
		}
		if d.mode == modeConfirm {
			b.WriteString("\n" + s.Warn.Render(wrap("Revisiting may invalidate steps that used these values:", d.width)) + "\n")
			for _, id := range d.invalidates() {
				b.WriteString(fmt.Sprintf("  %s %s (%s)\n", Mark(steps.StatusOf(d.st.Steps, id)), d.c.Plan.Get(id).Title, id))
			}
			b.WriteString(wrap("If a value changes, they go back to pending and must run again. Press enter to revisit, n to keep.", d.width) + "\n")
		}
	case modeForm, modeApplying:
		if d.refuse != nil {
			b.WriteString(s.Bad.Render(wrap(d.refuse.Error(), d.width)) + "\n")
		}
		if d.form != nil {
			b.WriteString(d.form.View())
		}
	}
	return b.String()
}

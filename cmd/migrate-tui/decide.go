package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/decisions/decide"
	"migrate-tui/internal/state"
)

// decideOptions are `migrate-tui decide`'s flags.
type decideOptions struct {
	g        *globalOptions
	Set      []string
	Answers  string
	Defaults bool
	List     bool
	JSON     bool

	repo    string
	changes decisions.Answers
	source  string
}

func newDecideCmd(g *globalOptions) *cobra.Command {
	o := &decideOptions{g: g}
	cmd := &cobra.Command{
		Use:   "decide",
		Short: "Make decisions without the TUI: --set KEY=VALUE, --answers FILE, --defaults, --list",
		Long: `Make the wizard's decisions non-interactively, with the same validation and
cross-checks, writing the same terraform.tfvars.

  migrate-tui decide --list                 the decisions, options and defaults
  migrate-tui decide --set service_mesh=linkerd --set storage_backend=longhorn
  migrate-tui decide --answers answers.yaml  (YAML or JSON of KEY: VALUE; replays a run)
  migrate-tui decide --defaults              every undecided question gets its recommended default

Lists are comma-separated (k3s_disable=traefik,servicelb); nodes are
name=address/arch/role, comma-separated.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.Set, "set", nil, "KEY=VALUE to decide (repeatable)")
	f.StringVar(&o.Answers, "answers", "", "a YAML or JSON file of KEY: VALUE answers")
	f.BoolVar(&o.Defaults, "defaults", false, "take the recommended default for every question not decided yet")
	f.BoolVar(&o.List, "list", false, "list the decisions, their options and defaults")
	f.BoolVar(&o.JSON, "json", false, "with --list: print JSON")
	return cmd
}

func (o *decideOptions) Complete() error {
	repo, err := o.g.RepoDir()
	if err != nil {
		return err
	}
	o.repo = repo
	return nil
}

func (o *decideOptions) Validate() error {
	if o.List {
		if len(o.Set) > 0 || o.Answers != "" || o.Defaults {
			return usage(errors.New("--list cannot be combined with --set, --answers or --defaults"))
		}
		return nil
	}
	if o.JSON {
		return usage(errors.New("--json goes with --list"))
	}
	if len(o.Set) == 0 && o.Answers == "" && !o.Defaults {
		return usage(errors.New("nothing to decide: give --set KEY=VALUE, --answers FILE or --defaults (or --list to see the decisions)"))
	}
	o.changes = decisions.Answers{}
	var sources []string
	if o.Answers != "" {
		ans, err := readAnswers(o.Answers)
		if err != nil {
			return usage(err)
		}
		for k, v := range ans {
			o.changes[k] = v
		}
		sources = append(sources, "decide --answers")
	}
	for _, kv := range o.Set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return usage(fmt.Errorf("--set %q: want KEY=VALUE", kv))
		}
		d := decisions.Get(strings.TrimSpace(k))
		if d == nil {
			return usage(decisions.UnknownKeyError(k))
		}
		val, err := d.Parse(v)
		if err != nil {
			return usage(err)
		}
		o.changes[d.Key] = val
	}
	if len(o.Set) > 0 {
		sources = append(sources, "decide --set")
	}
	if o.Defaults {
		sources = append(sources, "decide --defaults")
	}
	o.source = strings.Join(sources, " + ")
	return nil
}

// readAnswers reads a YAML or JSON file of KEY: VALUE.
func readAnswers(path string) (decisions.Answers, error) { return decide.ReadAnswers(path) }

func (o *decideOptions) Run() error {
	if o.List {
		ans, mctx := memoryContext(o.repo)
		return listDecisions(o.g.Out, o.JSON, ans, mctx)
	}
	lock, err := state.Acquire(o.repo, "migrate-tui decide")
	if err != nil {
		return err
	}
	defer lock.Release()
	if n := lock.StaleNotice(); n != "" {
		fmt.Fprintln(o.g.Err, n)
	}
	now := time.Now()
	st, err := state.LoadOrNew(o.repo, now)
	if err != nil {
		return err
	}
	if o.Defaults {
		o.fillDefaults(st)
	}
	out, err := decide.Apply(o.repo, st, o.changes, o.source, now)
	if err != nil {
		var ce decisions.ConflictsError
		if errors.As(err, &ce) {
			return usage(err)
		}
		return err
	}
	w := o.g.Out
	if len(out.Changed) == 0 {
		fmt.Fprintln(w, "Nothing changed: every value was already decided that way.")
	}
	ans, _ := st.Answers()
	for _, k := range out.Changed {
		fmt.Fprintf(w, "decided %s = %s\n", k, decisions.Get(k).Text(ans[k]))
	}
	for _, n := range out.Derived {
		fmt.Fprintln(w, "derived:", n)
	}
	for _, id := range out.Invalidated {
		fmt.Fprintf(w, "invalidated %s: %s\n", id, decide.InvalidationReason(out.Why[id]))
	}
	fmt.Fprintf(w, "wrote %s\n", out.TfvarsPath)
	warnMemory(o.g.Err, ans, preflightContext(st))
	return nil
}

// fillDefaults adds the recommended default of every question the wizard
// would ask (given the answers so far) that is not decided yet.
func (o *decideOptions) fillDefaults(st *state.State) {
	cur, _ := st.Answers()
	for k, v := range o.changes {
		cur[k] = v
	}
	// Asking order matters: a later question may apply only given an earlier answer.
	for _, sc := range decisions.Screens {
		for _, d := range decide.Asked(sc.ID, cur) {
			if _, ok := cur[d.Key]; !ok {
				cur[d.Key] = d.Default
				o.changes[d.Key] = d.Default
			}
		}
	}
}

type listedOption struct {
	Value        string   `json:"value"`
	Summary      string   `json:"summary"`
	Pros         []string `json:"pros"`
	Cons         []string `json:"cons"`
	Homelab      string   `json:"homelab"`
	Consequences string   `json:"consequences"`
	// Memory is the estimate with this option and the other decisions as
	// decided (topology, mesh, ingress and VPA mode only).
	Memory *decisions.MemoryReport `json:"memory,omitempty"`
}

type listedDecision struct {
	Key           string         `json:"key"`
	Screen        string         `json:"screen"`
	Type          string         `json:"type"`
	Title         string         `json:"title"`
	Question      string         `json:"question"`
	Why           string         `json:"why"`
	Options       []listedOption `json:"options,omitempty"`
	Default       any            `json:"default"`
	DefaultText   string         `json:"default_text"`
	DefaultReason string         `json:"default_reason"`
	Consequences  string         `json:"consequences,omitempty"`
	// Memory (control_plane_topology only): the estimate for the decisions
	// as they stand, each node beside its free memory, and the nearest
	// option set that fits when they do not.
	Memory *listedMemory `json:"memory,omitempty"`
}

func listDecisions(w io.Writer, asJSON bool, ans decisions.Answers, mctx decisions.Context) error {
	var list []listedDecision
	for _, d := range decisions.All() {
		ld := listedDecision{Key: d.Key, Screen: d.Screen, Type: d.Type.String(), Title: d.Title, Question: d.Question, Why: d.Why,
			Default: d.Default, DefaultText: d.Text(d.Default), DefaultReason: d.DefaultReason, Consequences: d.Consequences}
		for _, op := range d.Options {
			lo := listedOption{Value: op.Value, Summary: op.Summary, Pros: op.Pros, Cons: op.Cons, Homelab: op.Homelab, Consequences: op.Consequences}
			if decisions.MemoryKey(d.Key) {
				lo.Memory = optionMemory(ans, mctx, d.Key, op.Value)
			}
			ld.Options = append(ld.Options, lo)
		}
		if d.Key == "control_plane_topology" {
			ld.Memory = &listedMemory{Estimate: decisions.EstimateMemory(ans, mctx), Recommendation: decisions.RecommendMemory(ans, mctx)}
		}
		list = append(list, ld)
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tDEFAULT\tOPTIONS / TYPE")
	for _, d := range list {
		opts := d.Type
		if len(d.Options) > 0 {
			var vs []string
			for _, op := range d.Options {
				vs = append(vs, op.Value)
			}
			opts = strings.Join(vs, " | ")
		}
		def := d.DefaultText
		if def == "" {
			def = `""`
		}
		if len(def) > 40 {
			def = def[:37] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Key, def, opts)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nMemory for the decisions as they stand (K3s + platform beside each node's free memory):")
	for _, l := range decisions.MemoryLines(decisions.EstimateMemory(ans, mctx)) {
		fmt.Fprintln(w, "  "+l)
	}
	if rec := decisions.RecommendMemory(ans, mctx); rec != nil {
		fmt.Fprintln(w, "  recommended: "+rec.Text)
	}
	fmt.Fprintln(w, "\nEach option's pros, cons and meaning for this homelab: migrate-tui decide --list --json, or specs/003-nomad-to-kubernetes/research.md.")
	return nil
}

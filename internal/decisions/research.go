package decisions

import (
	"fmt"
	"strings"
)

// ResearchPath is research.md, relative to the repository root.
const ResearchPath = "specs/003-nomad-to-kubernetes/research.md"

// Markdown renders the catalogue as research.md: every decision, every
// option with pros, cons, homelab meaning and consequences, the recommended
// default with its reason, and the cross-checks.
func Markdown() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# Research: Nomad to Kubernetes (K3s) decisions\n\n")
	w("<!-- Generated from internal/decisions by `go run ./internal/decisions/gen`; edit the catalogue, not this file. -->\n\n")
	w("Each decision below is a key of `terraform.tfvars`, declared in `variables.tf`.\n")
	w("migrate-tui asks them in this order (`migrate-tui decide --list` shows the same catalogue).\n")
	w("Facts are cited from `facts.md` and `homelab.md`: the January 2026 proof of concept (PoC) and upstream documentation.\n\n")
	for _, sc := range Screens {
		w("## %s\n\n%s\n\n", sc.Title, sc.Why)
		for _, d := range ForScreen(sc.ID) {
			w("### `%s` — %s\n\n", d.Key, d.Title)
			w("%s %s\n\n", d.Question, d.Why)
			for _, o := range d.Options {
				w("#### Option `%s`\n\n%s\n\n", o.Value, o.Summary)
				w("- Pros:\n")
				for _, p := range o.Pros {
					w("  - %s\n", p)
				}
				w("- Cons:\n")
				for _, c := range o.Cons {
					w("  - %s\n", c)
				}
				w("- For this homelab: %s\n", o.Homelab)
				w("- Consequences: %s\n\n", o.Consequences)
			}
			if d.Consequences != "" {
				w("Consequences: %s\n\n", d.Consequences)
			}
			w("**Decision (default): `%s`.** %s\n\n", mdValue(d), d.DefaultReason)
		}
	}
	w("## Cross-checks\n\nmigrate-tui refuses these combinations, with the reason and what to choose instead:\n\n")
	for _, cc := range crossChecks {
		w("- `%s` (%s): %s\n", cc.id, strings.Join(cc.keys, ", "), cc.doc)
	}
	w("\n")
	memoryMarkdown(w)
	return b.String()
}

// memoryMarkdown lists the figures the memory estimate adds up, with their
// sources, and how the estimate is compared with each node's free memory.
func memoryMarkdown(w func(string, ...any)) {
	w("## Memory estimate\n\n")
	w("For the decided topology, mesh, ingress and VPA mode, migrate-tui adds up each node's K3s and platform memory ")
	w("and shows it beside the node's free memory beside Nomad (preflight: memory minus Nomad's reservations and allocations), ")
	w("on the decision screens and in `migrate-tui decide --list --json`. A node whose own parts exceed its free memory, ")
	w("or cluster-wide components that fit nowhere, make it warn and recommend the nearest option set that fits. ")
	w("The sum errs high: the PoC's ~500 MB per server counted the control plane, Cilium and CoreDNS, not the kubelet and containerd ")
	w("that K3s's own profiling adds. SC-010 compares the estimate with what is measured after the stages.\n\n")
	w("| Component | MB | Counts | Source |\n|---|---|---|---|\n")
	for _, f := range memoryFigures {
		per := map[string]string{"server": "per server", "node": "per node", "cluster": "once"}[f.Per]
		w("| %s | %d | %s | %s |\n", f.Component, f.MB, per, f.Source)
	}
	w("\nNo sourced figure, so not counted: Cilium's operator and Hubble Relay/UI, istio-cni's node agent; Istio's and Linkerd's figures are the 2021 benchmark's, Istio's in sidecar mode.\n\n")
}

func mdValue(d *Decision) string {
	s := d.Text(d.Default)
	if s == "" {
		return `""`
	}
	return s
}

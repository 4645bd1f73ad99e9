package checks

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

func sc005() Check {
	return Check{
		ID:     "SC-005",
		Title:  "Nomad unaffected",
		Proves: "Every Nomad job in the preflight baseline still runs with healthy allocations and no new failures or restarts.",
		Hint:   "See specs/003-nomad-to-kubernetes SC-005 and FR-006: nomad job status <job> and nomad alloc status <alloc> say why; check the node's memory and ports against K3s.",
		Run:    runSC005,
	}
}

func runSC005(ctx context.Context, d *Deps) Result {
	if d.NomadHealth == nil {
		return skip("Nomad not configured or no baseline recorded, so nothing to compare", "Run the preflight step (migrate-tui, step preflight) with NOMAD_ADDR and NOMAD_TOKEN set: it records the baseline.")
	}
	jobs, taken, regs, err := d.NomadHealth.Compare(ctx)
	if err != nil {
		return fail(fmt.Sprintf("unreachable: comparing Nomad with the baseline: %v", err), "Check NOMAD_ADDR and NOMAD_TOKEN (nomad status should answer), then run the check again.")
	}
	if len(regs) > 0 {
		return fail(fmt.Sprintf("%d regression(s) since the baseline of %s (%d jobs):\n%s", len(regs), taken.UTC().Format(time.RFC3339), jobs, strings.Join(regs, "\n")),
			"Nomad changed since K3s arrived: look at the jobs named (nomad alloc status) and at memory/ports on their nodes; migrate-tui cutover rollback puts a service back on Nomad.")
	}
	return pass(fmt.Sprintf("%d jobs as in the baseline of %s: running, allocations healthy, no new failures or restarts", jobs, taken.UTC().Format(time.RFC3339)))
}

func sc006() Check {
	return Check{
		ID:     "SC-006",
		Title:  "Terraform deploys the PoC, no drift",
		Proves: "A plan of this repository finds nothing to change and its state holds a module for every PoC service.",
		Hint:   "See specs/003-nomad-to-kubernetes SC-006: run migrate-tui apply --stage <stage> to bring the cluster back to the repository.",
		Run:    runSC006,
	}
}

func runSC006(ctx context.Context, d *Deps) Result {
	if d.Terraform == nil {
		return skip("Terraform not configured (no repository directory with main.tf)", "Run migrate-tui check --dir <repository>.")
	}
	mods, err := d.Terraform.StateModules(ctx)
	if err != nil {
		return fail("reading the Terraform state: "+tfErrorSummary(err), "Run tofu init in the repository (migrate-tui apply does it), then run the check again.")
	}
	var missing []string
	for _, svc := range d.Decisions.Services() {
		if !hasModuleFor(mods, svc) {
			missing = append(missing, svc)
		}
	}
	changes, err := d.Terraform.Plan(ctx)
	if err != nil {
		return fail("terraform plan failed: "+tfErrorSummary(err), "Fix the error above (tofu plan shows it in full); \"Module not installed\" means tofu init has not run here (migrate-tui apply runs it). Then run the check again.")
	}
	sort.Strings(mods)
	evidence := fmt.Sprintf("state modules: %s", orNone(mods))
	switch {
	case len(changes) > 0:
		return fail(fmt.Sprintf("plan shows drift, %d change(s):\n%s\n%s", len(changes), strings.Join(changes, "\n"), evidence),
			"Something changed behind Terraform's back (or the repository changed): review the changes, then run migrate-tui apply to put the cluster back, or bring the change into the repository.")
	case len(missing) > 0:
		return fail(fmt.Sprintf("no module in the Terraform state for: %s; %s", strings.Join(missing, ", "), evidence),
			"Apply the services stage (migrate-tui apply --stage services) so Terraform, not kubectl, deploys them.")
	}
	return pass("plan: no changes; " + evidence)
}

// hasModuleFor reports whether a module address names service
// (module.whoami, module.services["whoami"], module.poc_whoami, ...).
func hasModuleFor(mods []string, service string) bool {
	for _, m := range mods {
		if strings.Contains(m, service) {
			return true
		}
	}
	return false
}

func sc007() Check {
	return Check{
		ID:     "SC-007",
		Title:  "Operator's own assessment recorded",
		Proves: "The operator has said, in their own words, whether the PoC gave them practical Kubernetes experience.",
		Hint:   "Record your answer: migrate-tui check --assess yes|partly|no --assess-note \"what you learned\".",
		Run:    runSC007,
	}
}

func runSC007(ctx context.Context, d *Deps) Result {
	if d.Assessor == nil {
		return skip("no place to read the assessment from (no repository directory)", "")
	}
	a, err := d.Assessor.Assessment(ctx)
	if err != nil {
		return fail(fmt.Sprintf("reading the recorded assessment: %v", err), "Record it again: migrate-tui check --assess yes|partly|no.")
	}
	if a == nil {
		return warn("not recorded yet: this is a question for you, not a probe", "")
	}
	ev := fmt.Sprintf("answered %q on %s", a.Answer, a.RecordedAt.UTC().Format(time.DateOnly))
	if a.Note != "" {
		ev += ": " + a.Note
	}
	switch a.Answer {
	case "yes":
		return pass(ev)
	case "partly":
		return warn(ev, "Note what is still missing in the decision record (specs/003-nomad-to-kubernetes/decision.md).")
	default:
		return fail(ev, "Note what was missing in the decision record (specs/003-nomad-to-kubernetes/decision.md); it weighs on the go/no-go.")
	}
}

// tfErrorSummary keeps the distinct "Error: ..." lines of Terraform's output
// (at most three), or the first line.
func tfErrorSummary(err error) string {
	var out []string
	seen := map[string]bool{}
	for _, l := range strings.Split(err.Error(), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "Error: ") && !seen[l] {
			seen[l] = true
			out = append(out, strings.TrimPrefix(l, "Error: "))
		}
	}
	if len(out) == 0 {
		return strings.SplitN(err.Error(), "\n", 2)[0]
	}
	if len(out) > 3 {
		out = append(out[:3], "…")
	}
	return strings.Join(out, "; ")
}

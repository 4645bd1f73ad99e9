package checks

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

func sc001() Check {
	return Check{
		ID:         "SC-001",
		Title:      "PoC workloads available",
		Proves:     "Every PoC service, and every scaffolded service enabled in services, runs on Kubernetes at its desired replicas, its pods Ready and behind ready endpoints, on the homelab's architectures (a scaffolded CronJob or Job: present, not suspended or failed).",
		Hint:       "See specs/003-nomad-to-kubernetes (SC-001): kubectl -n <ns> describe the workload named above and its pods; re-apply the services stage with migrate-tui apply --stage services.",
		Eventually: true,
		Run:        runSC001,
	}
}

func runSC001(ctx context.Context, d *Deps) Result {
	s := d.Snapshot()
	if len(d.Decisions.Services()) == 0 {
		return skip("no PoC services chosen (poc_services is empty) and no scaffolded service enabled (services)", "Choose PoC services with migrate-tui decide, or scaffold one with migrate-tui scaffold JOB.")
	}
	wls, missing, errR := pocWorkloads(ctx, d)
	if errR != nil {
		return *errR
	}
	pods, err := s.PoCPods(ctx)
	if err != nil {
		return apiFail("Pods", err)
	}
	nodes, err := s.Nodes(ctx)
	if err != nil {
		return apiFail("Nodes", err)
	}
	slices, err := s.EndpointSlices(ctx)
	if err != nil {
		return apiFail("EndpointSlices in "+s.Namespace(), err)
	}
	archOf := map[string]string{}
	for _, n := range nodes {
		archOf[n.Name] = n.Labels["kubernetes.io/arch"]
	}
	expected := map[string]bool{}
	for _, a := range d.Decisions.NodeArchs {
		expected[a] = true
	}
	// ready endpoints per pod name
	readyEP := map[string]int{}
	for _, sl := range slices {
		for _, ep := range sl.Endpoints {
			if ep.TargetRef == nil || ep.TargetRef.Kind != "Pod" {
				continue
			}
			if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
				readyEP[ep.TargetRef.Name]++
			}
		}
	}

	var problems, lines, unobserved []string
	for _, svc := range missing {
		problems = append(problems, fmt.Sprintf("%s: no Deployment, StatefulSet, CronJob or Job in namespace %s", svc, s.Namespace()))
	}
	for _, svc := range d.Decisions.Services() {
		w := wls[svc]
		if w == nil {
			continue
		}
		if why, ok := waitsOnUnrunChart(ctx, d, w); ok {
			unobserved = append(unobserved, why)
			continue
		}
		ps := podsOf(w, pods)
		var notReady, wrongArch, where []string
		eps := 0
		seen := map[string]bool{}
		for _, p := range ps {
			if !podReady(p) {
				notReady = append(notReady, fmt.Sprintf("%s (%s)", p.Name, notReadyReason(p)))
			}
			eps += readyEP[p.Name]
			if p.Spec.NodeName != "" {
				a := archOf[p.Spec.NodeName]
				if len(expected) > 0 && !expected[a] {
					wrongArch = append(wrongArch, fmt.Sprintf("%s on %s (arch %q)", p.Name, p.Spec.NodeName, a))
				}
				if !seen[p.Spec.NodeName] {
					seen[p.Spec.NodeName] = true
					where = append(where, fmt.Sprintf("%s(%s)", p.Spec.NodeName, a))
				}
			}
		}
		sort.Strings(where)
		if len(wrongArch) > 0 {
			problems = append(problems, fmt.Sprintf("%s: pods on an unexpected architecture: %s", svc, strings.Join(wrongArch, ", ")))
		}
		if w.Batch != "" {
			// A CronJob or Job (a scaffolded Nomad periodic or batch job)
			// runs to completion: no replicas to keep ready, no endpoints.
			lines = append(lines, fmt.Sprintf("%s: %s %s %s, on %s", svc, w.Kind, w.Name, w.Batch, orNone(where)))
			if w.Problem != "" {
				problems = append(problems, fmt.Sprintf("%s: %s %s is %s", svc, w.Kind, w.Name, w.Problem))
			}
			continue
		}
		line := fmt.Sprintf("%s: %s %s %d/%d ready, %d ready endpoints, on %s", svc, w.Kind, w.Name, w.Ready, w.Desired, eps, orNone(where))
		lines = append(lines, line)
		switch {
		case w.Desired == 0:
			problems = append(problems, fmt.Sprintf("%s: %s %s is scaled to 0 replicas", svc, w.Kind, w.Name))
		case w.Ready < w.Desired:
			problems = append(problems, fmt.Sprintf("%s: %s %s has %d of %d replicas ready", svc, w.Kind, w.Name, w.Ready, w.Desired))
		}
		if len(notReady) > 0 {
			problems = append(problems, fmt.Sprintf("%s: pods not Ready: %s", svc, strings.Join(notReady, ", ")))
		}
		if len(ps) > 0 && eps == 0 && len(notReady) == 0 {
			problems = append(problems, fmt.Sprintf("%s: no ready endpoint points at its pods (no Service selects them, or none is Ready)", svc))
		}
	}
	evidence := strings.Join(append(lines, unobserved...), "\n")
	if len(problems) > 0 {
		if evidence != "" {
			evidence = strings.Join(problems, "\n") + "\n" + evidence
		} else {
			evidence = strings.Join(problems, "\n")
		}
		return fail(evidence, fmt.Sprintf("kubectl -n %s describe the workload and pods named above (events say why); then migrate-tui apply --stage services. See specs/003-nomad-to-kubernetes SC-001.", s.Namespace()))
	}
	if len(unobserved) > 0 {
		return unobservable(evidence, "On a real K3s the Helm controller installs the chart that creates the StorageClass; run check there.")
	}
	return pass(evidence)
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "no node"
	}
	return strings.Join(xs, ", ")
}

package steps

import "migrate-tui/internal/decisions"

// Stage names in the order they are applied; variables.tf's enabled_stages
// holds the ones after cluster.
var Stages = []struct{ Name, Title, Why string }{
	{"cluster", "Cluster (K3s)", "Installs K3s over SSH on the nodes with the decided topology, CIDRs, NodePort range and disabled components."},
	{"mesh", "Mesh", "Installs Linkerd or Istio ambient for mTLS (Cilium, the CNI, comes with the cluster stage); the echo-only-from-whoami policy comes with the services (SC-008)."},
	{"storage", "Storage", "Installs the storage backend (or static GlusterFS volumes) the PoC services mount."},
	{"vault", "Vault integration", "Connects the cluster to the existing Vault: Kubernetes auth with a token reviewer, and ESO or the injector (SC-009)."},
	{"vpa", "VPA", "Installs the VPA recommender (and admission controller with its TLS secret when needed) for SC-002."},
	{"ingress", "Ingress", "Installs Traefik with the wildcard certificate and routes *.domain to the cluster (SC-004)."},
	{"services", "PoC services", "Deploys whoami, echo and overseerr from this repository with terraform apply (SC-001, SC-003, SC-006)."},
}

// Default is the migration plan.
func Default() *Plan {
	var s []Step
	s = append(s,
		Step{ID: "preflight.tools", Kind: KindPreflight, Phase: PhasePreflight, Title: "Tools", Ref: "tools",
			Why: "terraform or tofu and ssh must be on PATH before anything is applied."},
		Step{ID: "preflight.nomad", Kind: KindPreflight, Phase: PhasePreflight, Title: "Nomad reachable", Ref: "nomad",
			Why: "Nomad (NOMAD_ADDR, NOMAD_TOKEN, NOMAD_CACERT) is read for the inventory and the no-disruption baseline."},
		Step{ID: "preflight.inventory", Kind: KindPreflight, Phase: PhasePreflight, Title: "Node inventory", Ref: "inventory",
			Needs: []string{"preflight.nomad"},
			Why:   "Names, architecture and memory of each node, and what Nomad has allocated: the room K3s has to fit in."},
		Step{ID: "preflight.baseline", Kind: KindPreflight, Phase: PhasePreflight, Title: "Nomad baseline", Ref: "baseline",
			Needs: []string{"preflight.nomad"},
			Why:   "Every Nomad job's health now, so each stage can prove Nomad was not disturbed (SC-005)."},
	)
	for _, sc := range decisions.Screens {
		needs := []string{"preflight.inventory"}
		switch sc.ID {
		case "cluster":
			// Node roles follow the topology; k3s_disable follows ingress.
			needs = []string{"decide.topology", "decide.mesh", "decide.ingress"}
		case "services":
			needs = []string{"decide.storage"}
		}
		s = append(s, Step{ID: "decide." + sc.ID, Kind: KindDecision, Phase: PhaseDecisions, Title: sc.Title, Why: sc.Why, Needs: needs, Ref: sc.ID})
	}
	allDecisions := make([]string, 0, len(decisions.Screens))
	for _, sc := range decisions.Screens {
		allDecisions = append(allDecisions, "decide."+sc.ID)
	}
	for _, st := range Stages {
		var needs []string
		switch st.Name {
		case "cluster":
			needs = append([]string{"preflight.tools", "preflight.baseline"}, allDecisions...)
		case "services":
			needs = []string{"stage.storage", "stage.mesh", "stage.vault", "stage.vpa", "stage.ingress"}
		case "storage":
			// The mesh comes first (main.tf's stage_order).
			needs = []string{"stage.cluster", "stage.mesh"}
		default:
			needs = []string{"stage.cluster"}
		}
		s = append(s, Step{ID: "stage." + st.Name, Kind: KindStage, Phase: PhaseStages, Title: st.Title, Why: st.Why, Needs: needs, Ref: st.Name})
	}
	s = append(s,
		Step{ID: "verify.criteria", Kind: KindVerify, Phase: PhaseVerify, Title: "Success criteria", Ref: "criteria",
			Needs: []string{"stage.services"},
			Why:   "Checks SC-001..SC-010 live against the cluster, Nomad and Vault."},
		Step{ID: "cutover.services", Kind: KindCutover, Phase: PhaseCutover, Title: "Cutover per service", Ref: "services",
			Needs: []string{"verify.criteria"},
			Why:   "Moves services one at a time: external Traefik routes to K3s, Nomad jobs stop, data and buckets verified."},
		Step{ID: "evaluate.go-no-go", Kind: KindEvaluate, Phase: PhaseEvaluate, Title: "Go / no-go", Ref: "go-no-go",
			Needs: []string{"verify.criteria"},
			Why:   "Documents the go/no-go decision from the evidence gathered (SC-010)."},
	)
	p, err := New(s)
	if err != nil {
		panic("steps: the default plan is inconsistent: " + err.Error()) // a programming error, caught by tests
	}
	return p
}

// DecisionStep returns the step ID that asks a decision key.
func DecisionStep(key string) string {
	if d := decisions.Get(key); d != nil {
		return "decide." + d.Screen
	}
	return ""
}

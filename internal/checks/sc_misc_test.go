package checks_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/nomadsim"
)

func TestSC007(t *testing.T) {
	t.Parallel()
	store := checks.FileAssessments{Path: filepath.Join(t.TempDir(), ".migrate-tui", "assessment.json")}
	d := &checks.Deps{Assessor: store}
	expect(t, runOne(t, "SC-007", d, checks.RunOptions{}), checks.Warn, "not recorded yet")
	for _, tc := range []struct {
		answer string
		status checks.Status
	}{{"yes", checks.Pass}, {"partly", checks.Warn}, {"no", checks.Fail}} {
		if err := store.Record(tc.answer, "ran three services", time.Now()); err != nil {
			t.Fatal(err)
		}
		expect(t, runOne(t, "SC-007", d, checks.RunOptions{}), tc.status, `answered "`+tc.answer+`"`, "ran three services")
	}
	if err := store.Record("maybe", "", time.Now()); err == nil {
		t.Error("an answer other than yes/partly/no was recorded")
	}
	expect(t, runOne(t, "SC-007", &checks.Deps{}, checks.RunOptions{}), checks.Skip)
}

var gvrCNP = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumnetworkpolicies"}

func TestSC008(t *testing.T) {
	// Not parallel: it owns kube-system/cilium-config.
	ns := world.Namespace(t)
	d := func(mesh string) *checks.Deps {
		x := deps(ns, "whoami", "echo")
		x.Decisions.ServiceMesh = mesh
		return x
	}
	expect(t, runOne(t, "SC-008", d("none"), checks.RunOptions{}), checks.Fail, "service_mesh = none")
	expect(t, runOne(t, "SC-008", d("cilium"), checks.RunOptions{}), checks.Fail, "cilium-config not found", "no CiliumNetworkPolicy in "+ns+" selects echo")

	cm, err := world.Client.CoreV1().ConfigMaps("kube-system").Create(ctxT(t, time.Minute), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "cilium-config"}, Data: map[string]string{"enable-wireguard": "false"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = world.Client.CoreV1().ConfigMaps("kube-system").Delete(ctxT(t, time.Minute), "cilium-config", metav1.DeleteOptions{})
	})
	createU(t, gvrCNP, ns, map[string]any{"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
		"metadata": map[string]any{"name": "echo-only-from-whoami"},
		"spec": map[string]any{
			"endpointSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "echo"}},
			"ingress":          []any{map[string]any{"fromEndpoints": []any{map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "whoami"}}}}}}})
	expect(t, runOne(t, "SC-008", d("cilium"), checks.RunOptions{}), checks.Fail, "neither enable-wireguard nor enable-ipsec", "CiliumNetworkPolicy echo-only-from-whoami selects echo")

	cm.Data["enable-wireguard"] = "true"
	if _, err := world.Client.CoreV1().ConfigMaps("kube-system").Update(ctxT(t, time.Minute), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Everything that can be checked without a data plane is right. The
	// test world's nodes are KWOK's: mTLS on the wire and a refused call
	// cannot be seen here, which is said as such — not a pass, not a failure.
	r := runOne(t, "SC-008", d("cilium"), checks.RunOptions{})
	expect(t, r, checks.Unobservable, "cannot be observed here", "simulated (KWOK)", "transparent encryption on", "CiliumNetworkPolicy echo-only-from-whoami selects echo")
	if !strings.Contains(r.Hint, "hubble") {
		t.Errorf("hint does not say how to observe it on the real cluster: %s", r.Hint)
	}
	expect(t, runOne(t, "SC-008", d("istio-ambient"), checks.RunOptions{}), checks.Fail, "no STRICT PeerAuthentication")

	// Cilium's own install missing, the policy there: on KWOK nodes the
	// install cannot run (unobservable); with one real node it is a failure.
	if err := world.Client.CoreV1().ConfigMaps("kube-system").Delete(ctxT(t, time.Minute), "cilium-config", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expect(t, runOne(t, "SC-008", d("cilium"), checks.RunOptions{}), checks.Unobservable, "simulated (KWOK)", "cilium-config not found")
	withRealNode(t)
	expect(t, runOne(t, "SC-008", d("cilium"), checks.RunOptions{}), checks.Fail, "cilium-config not found")
}

// withRealNode adds a node KWOK does not manage until the test ends, so the
// cluster is no longer all simulated: checks must expect real behaviour.
// Only for tests that are not parallel (the node is cluster-wide).
func withRealNode(t *testing.T) {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "real-" + strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))}}
	if _, err := world.Client.CoreV1().Nodes().Create(ctxT(t, time.Minute), n, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = world.Client.CoreV1().Nodes().Delete(context.Background(), n.Name, metav1.DeleteOptions{})
	})
}

func TestSC010(t *testing.T) {
	t.Parallel()
	ns := world.Namespace(t)
	platform := world.Namespace(t)
	deploy(t, platform, svcSpec{name: "platform-agent"})
	waitRolledOut(t, platform, "platform-agent")
	_, nc := startNomad(t)
	path := filepath.Join(t.TempDir(), "specs", "003-nomad-to-kubernetes", "decision.md")
	d := deps(ns, "whoami")
	d.Nomad = checks.NomadWatch{N: nc}
	d.Decision = checks.FileDecision{Path: path}
	d.Assessor = checks.FileAssessments{Path: filepath.Join(t.TempDir(), "a.json")}
	_ = d.Assessor.(checks.FileAssessments).Record("yes", "", time.Now())
	sel, _ := checks.Select(checks.All(), []string{"SC-007", "SC-010"}, nil)

	// The metrics pipeline needs a scrape or two before the pod shows up.
	podMetrics := schema.GroupVersionResource{Group: "metrics.k8s.io", Version: "v1beta1", Resource: "pods"}
	waitFor(t, "pod metrics for platform-agent", 3*time.Minute, func(ctx context.Context) (bool, error) {
		l, err := world.Dynamic.Resource(podMetrics).Namespace(platform).List(ctx, metav1.ListOptions{})
		return err == nil && len(l.Items) > 0, err
	})
	r := checks.Run(context.Background(), sel, d, checks.RunOptions{}, nil)[1]
	t.Logf("SC-010 %s: %s", r.Status, r.Evidence)
	expect(t, r, checks.Warn, "draft written to "+path, "hestia: node", "Nomad host", "outside allocations (Nomad+Consul agents, OS)", "estimate for K3s + platform ~",
		fmt.Sprintf("outside allocations %d MHz", nomadsim.AgentCPUMHz))
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{checks.DraftMarker, "| SC-007 | Operator's own assessment recorded | pass |", "## Overhead per node", "### Overhead per node (CPU)", "| hestia |", "## Estimate beside the measurement"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("decision.md lacks %q:\n%s", want, body)
		}
	}
	// The operator writes the decision and removes the marker: SC-010 passes,
	// their text is kept byte for byte and only the evidence section is
	// regenerated.
	final := strings.Replace(string(body), checks.DraftMarker+"\n", "", 1)
	final = strings.Replace(final, "_go / no-go / partial — yours to write_", "no-go for now", 1)
	if err := os.WriteFile(path, []byte(final), 0o644); err != nil {
		t.Fatal(err)
	}
	rs := checks.Run(context.Background(), sel, d, checks.RunOptions{}, nil)
	expect(t, rs[1], checks.Pass, "decision recorded in "+path)
	after, _ := os.ReadFile(path)
	outside := func(s string) string {
		b, e := strings.Index(s, checks.EvidenceBegin), strings.Index(s, checks.EvidenceEnd)
		if b < 0 || e < b {
			t.Fatalf("no evidence section in\n%s", s)
		}
		return s[:b] + s[e:]
	}
	if outside(string(after)) != outside(final) {
		t.Errorf("the operator's text in the final record changed:\n%s", after)
	}
}

package checks_test

import (
	"strings"
	"testing"
	"time"

	"migrate-tui/internal/checks"
)

func TestSC001(t *testing.T) {
	t.Parallel()
	ns := world.Namespace(t)
	deploy(t, ns, svcSpec{name: "whoami", replicas: 2})
	deploy(t, ns, svcSpec{name: "echo", nodeSelector: map[string]string{"kubernetes.io/arch": "arm64"}})
	// A pod that cannot be scheduled stays not Ready.
	deploy(t, ns, svcSpec{name: "stuck", nodeSelector: map[string]string{"kubernetes.io/hostname": "no-such-node"}})

	t.Run("pass", func(t *testing.T) {
		// SC-001 converges: let the runner retry while the rollout finishes.
		r := runOne(t, "SC-001", deps(ns, "whoami", "echo"), checks.RunOptions{Wait: 90 * time.Second, RetryEvery: time.Second})
		expect(t, r, checks.Pass, "whoami: Deployment whoami 2/2 ready", "echo: Deployment echo 1/1 ready", "(arm64)")
	})
	t.Run("pod not ready", func(t *testing.T) {
		r := runOne(t, "SC-001", deps(ns, "whoami", "stuck"), checks.RunOptions{})
		expect(t, r, checks.Fail, "stuck: Deployment stuck has 0 of 1 replicas ready", "stuck: pods not Ready", "PodScheduled=False Unschedulable")
		if contains(r.Evidence, "whoami: pods not Ready") {
			t.Errorf("whoami blamed too: %s", r.Evidence)
		}
	})
	t.Run("missing workload", func(t *testing.T) {
		r := runOne(t, "SC-001", deps(ns, "whoami", "overseerr"), checks.RunOptions{})
		expect(t, r, checks.Fail, "overseerr: no Deployment, StatefulSet, CronJob or Job in namespace "+ns)
	})
	t.Run("unexpected architecture", func(t *testing.T) {
		d := deps(ns, "echo")
		d.Decisions.NodeArchs = []string{"amd64"}
		r := runOne(t, "SC-001", d, checks.RunOptions{})
		expect(t, r, checks.Fail, "pods on an unexpected architecture")
	})
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

package checks_test

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/checks"
)

// cronJob creates a CronJob shaped like a scaffolded Nomad periodic job.
func cronJob(t *testing.T, ns, name string, suspend bool) {
	t.Helper()
	tmpl := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labelsFor(name)},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyOnFailure,
			Containers: []corev1.Container{{Name: "restic", Image: "restic/restic:0.17.3"}}},
	}
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labelsFor(name)},
		Spec: batchv1.CronJobSpec{Schedule: "30 3 * * *", Suspend: &suspend,
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}},
	}
	if _, err := world.Client.BatchV1().CronJobs(ns).Create(ctxT(t, time.Minute), cj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestSC001Scaffolded: the services enabled in the services map (the
// scaffolded modules) are checked beside the PoC services, a CronJob made
// from a Nomad periodic job included.
func TestSC001Scaffolded(t *testing.T) {
	t.Parallel()
	ns := world.Namespace(t)
	deploy(t, ns, svcSpec{name: "whoami"})
	deploy(t, ns, svcSpec{name: "sonarr", nodeSelector: map[string]string{"kubernetes.io/arch": "amd64"}})
	cronJob(t, ns, "restic-backup", false)
	cronJob(t, ns, "paused", true)
	withScaffolded := func(s ...string) *checks.Deps {
		d := deps(ns, "whoami")
		d.Decisions.Scaffolded = s
		return d
	}

	t.Run("pass", func(t *testing.T) {
		r := runOne(t, "SC-001", withScaffolded("sonarr", "restic-backup"), checks.RunOptions{Wait: 90 * time.Second, RetryEvery: time.Second})
		expect(t, r, checks.Pass, "whoami: Deployment whoami 1/1 ready", "sonarr: Deployment sonarr 1/1 ready", `restic-backup: CronJob restic-backup schedule "30 3 * * *", never run yet`)
	})
	t.Run("scaffolded workload missing", func(t *testing.T) {
		r := runOne(t, "SC-001", withScaffolded("vaultwarden"), checks.RunOptions{})
		expect(t, r, checks.Fail, "vaultwarden: no Deployment, StatefulSet, CronJob or Job in namespace "+ns)
	})
	t.Run("suspended CronJob", func(t *testing.T) {
		r := runOne(t, "SC-001", withScaffolded("paused"), checks.RunOptions{})
		expect(t, r, checks.Fail, "paused: CronJob paused is suspended")
	})
	t.Run("SC-002 names the batch workload", func(t *testing.T) {
		r := runOne(t, "SC-002", withScaffolded("restic-backup"), checks.RunOptions{})
		if !contains(r.Evidence, "restic-backup: CronJob restic-backup runs to completion; no VPA sizes it") {
			t.Errorf("SC-002 evidence does not account for the scaffolded CronJob:\n%s", r.Evidence)
		}
	})
}

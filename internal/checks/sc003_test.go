package checks_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/checks"
)

// overseerr deploys a stateful service like modules-k8s/overseerr: the app
// and a Litestream sidecar reading its config from a ConfigMap; the config
// directory is on claim (a PersistentVolumeClaim) or an emptyDir.
func overseerr(t testing.TB, ns, bucket, claim string, withLitestream bool) {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	if _, err := world.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "overseerr-litestream"},
		Data:       map[string]string{"litestream.yml": "dbs:\n  - path: /app/config/db/db.sqlite3\n    replicas:\n      - type: s3\n        bucket: " + bucket + "\n"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	config := corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
	if claim != "" {
		config.VolumeSource = corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}
	}
	cs := []corev1.Container{{Name: "overseerr", Image: "sctx/overseerr:1.33.2"}}
	if withLitestream {
		cs = append(cs, corev1.Container{Name: "litestream", Image: "litestream/litestream:0.3.13"})
	}
	one := int32(1)
	l := labelsFor("overseerr")
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "overseerr", Labels: l},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: l},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec: corev1.PodSpec{Containers: cs, Volumes: []corev1.Volume{config,
					{Name: "litestream-config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "overseerr-litestream"}}}}}}}},
	}
	if _, err := world.Client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// boundClaim makes a PersistentVolume and a claim bound to it.
func boundClaim(t testing.TB, ns, name string) {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	pvName := ns + "-" + name
	_, err := world.Client.CoreV1().PersistentVolumes().Create(ctx, &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: pvName},
		Spec: corev1.PersistentVolumeSpec{Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/" + pvName}},
			ClaimRef:               &corev1.ObjectReference{Namespace: ns, Name: name}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = world.Client.CoreV1().PersistentVolumes().Delete(context.Background(), pvName, metav1.DeleteOptions{})
	})
	empty := ""
	_, err = world.Client.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: &empty, VolumeName: pvName,
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "claim "+name+" bound", 2*time.Minute, func(ctx context.Context) (bool, error) {
		c, err := world.Client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil && c.Status.Phase == corev1.ClaimBound, err
	})
}

// volumeExec stands in for exec in KWOK's process-less pods: files written
// under /app/config live as long as the pod's config volume does (the claim,
// or the pod itself for an emptyDir), and Litestream lists one snapshot.
type volumeExec struct {
	mu    sync.Mutex
	files map[string]string
}

func (e *volumeExec) Exec(ctx context.Context, ns, pod, container string, cmd []string) (string, error) {
	p, err := world.Client.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	key := "pod:" + string(p.UID)
	for _, v := range p.Spec.Volumes {
		if v.Name == "config" && v.PersistentVolumeClaim != nil {
			key = "pvc:" + v.PersistentVolumeClaim.ClaimName
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case cmd[0] == "litestream":
		return "replica  generation        index  size  created\ns3       a1b2c3d4e5f60718  0      4096  2026-01-20T10:00:00Z\n", nil
	case cmd[0] == "sh" && len(cmd) == 3:
		// printf %s TOKEN > PATH
		f := strings.Fields(cmd[2])
		e.files[key+f[len(f)-1]] = f[2]
		return "", nil
	case cmd[0] == "cat":
		if v, ok := e.files[key+cmd[1]]; ok {
			return v, nil
		}
		return "", fmt.Errorf("cat: %s: No such file or directory", cmd[1])
	}
	return "", fmt.Errorf("unexpected command %v", cmd)
}

func TestSC003(t *testing.T) {
	t.Parallel()
	const bucket = "overseerr-k8s-litestream"
	t.Run("no exec in KWOK: warn, never pass", func(t *testing.T) {
		t.Parallel()
		ns := world.Namespace(t)
		overseerr(t, ns, bucket, "", true)
		waitRolledOut(t, ns, "overseerr")
		r := runOne(t, "SC-003", deps(ns, "overseerr"), checks.RunOptions{})
		expect(t, r, checks.Warn, "cannot be observed here", "Litestream container litestream present", "bucket "+bucket+" referenced in ConfigMap overseerr-litestream")
	})
	t.Run("no litestream", func(t *testing.T) {
		t.Parallel()
		ns := world.Namespace(t)
		overseerr(t, ns, bucket, "", false)
		expect(t, runOne(t, "SC-003", deps(ns, "overseerr"), checks.RunOptions{}), checks.Fail, "has no Litestream container")
	})
	t.Run("wrong bucket", func(t *testing.T) {
		t.Parallel()
		ns := world.Namespace(t)
		overseerr(t, ns, "overseerr-litestream", "", true)
		expect(t, runOne(t, "SC-003", deps(ns, "overseerr"), checks.RunOptions{}), checks.Fail, "Litestream bucket "+bucket+" is not referenced")
	})
	t.Run("restart proof on a claim", func(t *testing.T) {
		t.Parallel()
		ns := world.Namespace(t)
		boundClaim(t, ns, "overseerr-config")
		overseerr(t, ns, bucket, "overseerr-config", true)
		waitRolledOut(t, ns, "overseerr")
		d := deps(ns, "overseerr")
		d.Exec = &volumeExec{files: map[string]string{}}
		d.AllowRestart = true
		expect(t, runOne(t, "SC-003", d, checks.RunOptions{}), checks.Pass, "read back from", "Litestream lists 1 snapshot(s)")
	})
	t.Run("restart proof on an emptyDir loses the marker", func(t *testing.T) {
		t.Parallel()
		ns := world.Namespace(t)
		overseerr(t, ns, bucket, "", true)
		waitRolledOut(t, ns, "overseerr")
		d := deps(ns, "overseerr")
		d.Exec = &volumeExec{files: map[string]string{}}
		d.AllowRestart = true
		expect(t, runOne(t, "SC-003", d, checks.RunOptions{}), checks.Fail, "was not read back from")
	})
	t.Run("exec but no restart allowed", func(t *testing.T) {
		t.Parallel()
		ns := world.Namespace(t)
		overseerr(t, ns, bucket, "", true)
		waitRolledOut(t, ns, "overseerr")
		d := deps(ns, "overseerr")
		d.Exec = &volumeExec{files: map[string]string{}}
		expect(t, runOne(t, "SC-003", d, checks.RunOptions{}), checks.Warn, "restart proof not run")
	})
}

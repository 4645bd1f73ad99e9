package checks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The stateful PoC service and where its data lives in the container.
const (
	statefulService  = "overseerr"
	statefulDataDir  = "/app/config"
	statefulDB       = "/app/config/db/db.sqlite3"
	markerFile       = statefulDataDir + "/.migrate-tui-sc003-marker"
	litestreamConfig = "/etc/litestream/litestream.yml"
)

func sc003() Check {
	return Check{
		ID:     "SC-003",
		Title:  "Stateful data survives a restart",
		Proves: "The stateful PoC service keeps a marker written before its pod is deleted, and its Litestream replica exists in the K3s copy's own bucket.",
		Hint:   "See specs/003-nomad-to-kubernetes SC-003: the data directory must be on a persistent volume and Litestream must replicate to overseerr_litestream_bucket.",
		Run:    runSC003,
	}
}

func runSC003(ctx context.Context, d *Deps) Result {
	if !d.Decisions.Has(statefulService) {
		return skip("no stateful PoC service chosen (overseerr is not in poc_services)", "Add overseerr to poc_services with migrate-tui decide to prove SC-003.")
	}
	s := d.Snapshot()
	wls, _, errR := pocWorkloads(ctx, d)
	if errR != nil {
		return *errR
	}
	w := wls[statefulService]
	if w == nil {
		return fail(fmt.Sprintf("%s: no Deployment or StatefulSet in namespace %s", statefulService, s.Namespace()), "Apply the services stage (migrate-tui apply --stage services).")
	}
	pods, err := s.PoCPods(ctx)
	if err != nil {
		return apiFail("Pods", err)
	}
	cms, err := s.ConfigMaps(ctx)
	if err != nil {
		return apiFail("ConfigMaps in "+s.Namespace(), err)
	}
	var checked []string
	// Litestream must run beside the app and point at the K3s copy's bucket.
	ls := litestreamContainer(w.Template.Spec)
	if ls == "" {
		return fail(fmt.Sprintf("%s %s has no Litestream container (sidecar or init)", w.Kind, w.Name), "The overseerr module must run Litestream beside the app; re-apply migrate-tui apply --stage services.")
	}
	checked = append(checked, "Litestream container "+ls+" present")
	bucket := d.Decisions.LitestreamBucket
	if where := bucketReference(w.Template.Spec, cms, bucket); where != "" {
		checked = append(checked, fmt.Sprintf("bucket %s referenced in %s", bucket, where))
	} else {
		return fail(fmt.Sprintf("%s: Litestream bucket %s is not referenced by the pod template or any ConfigMap in %s", statefulService, bucket, s.Namespace()),
			"Litestream must replicate to overseerr_litestream_bucket (never the Nomad copy's bucket); check the overseerr module's litestream.yml.")
	}
	persistent := persistentDataVolume(w.Template.Spec)
	if persistent == "" {
		checked = append(checked, "data directory not on a PersistentVolumeClaim (Litestream restores it at start)")
	} else {
		checked = append(checked, "data directory on PVC "+persistent)
	}
	ps := podsOf(w, pods)
	var pod *corev1.Pod
	for i := range ps {
		if podReady(ps[i]) {
			pod = &ps[i]
			break
		}
	}
	if pod == nil {
		if why, ok := waitsOnUnrunChart(ctx, d, w); ok {
			return unobservable(fmt.Sprintf("no Ready pod to prove anything with: %s; %s", why, strings.Join(checked, "; ")),
				"On a real K3s the Helm controller installs the chart that creates the StorageClass; run check there.")
		}
		return fail(fmt.Sprintf("%s: no Ready pod to prove anything with; %s", statefulService, strings.Join(checked, "; ")), "Make SC-001 pass for overseerr first.")
	}
	if d.Exec == nil {
		return warn(fmt.Sprintf("cannot be observed here: pods cannot be exec'd in this cluster, so neither the marker round trip nor the replica's snapshots could be read. Checked: %s", strings.Join(checked, "; ")),
			"On the real cluster run migrate-tui check --only SC-003 --restart-proof: it writes a marker, deletes the pod and reads the marker back.")
	}
	app := appContainer(w.Template.Spec, ls)
	// The replica: Litestream lists at least one snapshot (0.3) or LTX file
	// (0.5, which has no snapshots command) in the bucket.
	out, err := d.Exec.Exec(ctx, pod.Namespace, pod.Name, ls, []string{"litestream", listCommand(w.Template.Spec, ls), "-config", litestreamConfig, statefulDB})
	if err != nil {
		return fail(fmt.Sprintf("reading Litestream snapshots in %s/%s: %v", pod.Name, ls, err), "Check the Litestream sidecar's logs and the MinIO bucket "+bucket+".")
	}
	if n := countDataLines(out); n == 0 {
		return fail(fmt.Sprintf("Litestream lists no snapshot of %s in %s; %s", statefulDB, bucket, strings.Join(checked, "; ")), "The replica is empty: check the sidecar's logs and MinIO credentials.")
	} else {
		checked = append(checked, fmt.Sprintf("Litestream lists %d snapshot(s) of %s", n, statefulDB))
	}
	if !d.AllowRestart {
		return warn(fmt.Sprintf("restart proof not run (it deletes the pod). Checked: %s", strings.Join(checked, "; ")),
			"Run migrate-tui check --only SC-003 --restart-proof to write a marker, restart the pod and read it back.")
	}
	token := randomToken()
	if _, err := d.Exec.Exec(ctx, pod.Namespace, pod.Name, app, []string{"sh", "-c", "printf %s " + token + " > " + markerFile}); err != nil {
		return fail(fmt.Sprintf("writing the marker into %s/%s: %v", pod.Name, app, err), "The app container needs a shell and a writable "+statefulDataDir+".")
	}
	if err := d.Kube.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		return apiFail("deleting pod "+pod.Name, err)
	}
	next, err := waitReplacement(ctx, d, pod, w)
	if err != nil {
		return fail(fmt.Sprintf("after deleting %s no replacement pod became Ready: %v", pod.Name, err), "kubectl -n "+pod.Namespace+" describe pods: the replacement is stuck.")
	}
	got, err := d.Exec.Exec(ctx, next.Namespace, next.Name, app, []string{"cat", markerFile})
	if err != nil || strings.TrimSpace(got) != token {
		return fail(fmt.Sprintf("marker written to %s before the restart was not read back from %s (read %q, err %v); %s", pod.Name, next.Name, strings.TrimSpace(got), err, strings.Join(checked, "; ")),
			"The data directory did not survive the restart: put "+statefulDataDir+" on a PersistentVolumeClaim or let Litestream restore it at start.")
	}
	checked = append(checked, fmt.Sprintf("marker written in %s read back from %s after the restart", pod.Name, next.Name))
	return pass(strings.Join(checked, "; "))
}

func randomToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "sc003-" + hex.EncodeToString(b)
}

// waitReplacement polls for a Ready pod of w other than old.
func waitReplacement(ctx context.Context, d *Deps, old *corev1.Pod, w *workload) (*corev1.Pod, error) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		l, err := d.Kube.CoreV1().Pods(old.Namespace).List(ctx, metav1.ListOptions{LabelSelector: w.Selector.String()})
		if err == nil {
			for i := range l.Items {
				p := l.Items[i]
				if p.UID != old.UID && p.DeletionTimestamp == nil && podReady(p) && w.Selector.Matches(labels.Set(p.Labels)) {
					return &p, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// listCommand is the Litestream subcommand listing a replica's files for
// container name's image: "snapshots" up to 0.4, "ltx" from 0.5 on (v0.5.18
// cmd/litestream/main.go has ltx and no snapshots command).
func listCommand(spec corev1.PodSpec, name string) string {
	for _, c := range append(append([]corev1.Container{}, spec.Containers...), spec.InitContainers...) {
		if c.Name != name {
			continue
		}
		_, tag, _ := strings.Cut(c.Image, ":")
		parts := strings.SplitN(strings.TrimPrefix(tag, "v"), ".", 3)
		if len(parts) >= 2 {
			major, minor := parts[0], parts[1]
			if major != "0" || (len(minor) > 1 || minor >= "5") {
				return "ltx"
			}
		}
	}
	return "snapshots"
}

func litestreamContainer(spec corev1.PodSpec) string {
	for _, cs := range [][]corev1.Container{spec.Containers, spec.InitContainers} {
		for _, c := range cs {
			if strings.Contains(c.Name, "litestream") || strings.Contains(c.Image, "litestream") {
				// An init container that restores only is not the replicator;
				// prefer a sidecar (a regular container or a restartable init).
				if c.RestartPolicy != nil || containsContainer(spec.Containers, c.Name) {
					return c.Name
				}
			}
		}
	}
	return ""
}

func containsContainer(cs []corev1.Container, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

func appContainer(spec corev1.PodSpec, not string) string {
	for _, c := range spec.Containers {
		if c.Name != not {
			return c.Name
		}
	}
	return spec.Containers[0].Name
}

func bucketReference(spec corev1.PodSpec, cms []corev1.ConfigMap, bucket string) string {
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		for _, e := range c.Env {
			if strings.Contains(e.Value, bucket) {
				return "container " + c.Name + " env " + e.Name
			}
		}
		for _, a := range append(append([]string{}, c.Command...), c.Args...) {
			if strings.Contains(a, bucket) {
				return "container " + c.Name + " arguments"
			}
		}
	}
	used := map[string]bool{}
	for _, v := range spec.Volumes {
		if v.ConfigMap != nil {
			used[v.ConfigMap.Name] = true
		}
	}
	for _, cm := range cms {
		if !used[cm.Name] {
			continue
		}
		for k, v := range cm.Data {
			if strings.Contains(v, bucket) {
				return "ConfigMap " + cm.Name + " key " + k
			}
		}
	}
	return ""
}

func persistentDataVolume(spec corev1.PodSpec) string {
	for _, v := range spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			return v.PersistentVolumeClaim.ClaimName
		}
	}
	return ""
}

// countDataLines counts non-empty lines after litestream's header line.
func countDataLines(out string) int {
	n := 0
	for i, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if i == 0 || strings.TrimSpace(l) == "" {
			continue
		}
		n++
	}
	return n
}

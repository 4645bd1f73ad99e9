package cutover_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/objstore"
	"migrate-tui/internal/status"
	"migrate-tui/internal/testworld"
)

// lsSide is one copy's database and its Litestream config (one S3 replica).
type lsSide struct {
	bin, db, cfg string
	creds        objstore.Credentials
}

func newSide(t *testing.T, bin, dir, name, endpoint, bucket string, creds objstore.Credentials) lsSide {
	t.Helper()
	s := lsSide{bin: bin, db: filepath.Join(dir, name+".sqlite3"), cfg: filepath.Join(dir, name+".yml"), creds: creds}
	cfg := fmt.Sprintf("dbs:\n  - path: %s\n    replicas:\n      - type: s3\n        bucket: %s\n        path: db\n        endpoint: %s\n        region: us-east-1\n        force-path-style: true\n", s.db, bucket, endpoint)
	if err := os.WriteFile(s.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s lsSide) litestream(t *testing.T, ctx context.Context, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LITESTREAM_ACCESS_KEY_ID=" + s.creds.AccessKey, "LITESTREAM_SECRET_ACCESS_KEY=" + s.creds.SecretKey}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("litestream %v: %v\n%s", args, err, out)
	}
}

// replicate is one sync of the sidecar (litestream replicate -once).
func (s lsSide) replicate(t *testing.T, ctx context.Context) {
	s.litestream(t, ctx, "replicate", "-once", "-config", s.cfg)
}

func (s lsSide) sql(t *testing.T, ctx context.Context, q string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "sqlite3", "-batch", s.db)
	cmd.Stdin = strings.NewReader(q)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sqlite3 %s: %v: %s", s.db, err, out)
	}
}

func (s lsSide) insert(t *testing.T, ctx context.Context, from, to int) {
	var b strings.Builder
	b.WriteString("BEGIN;\n")
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "INSERT INTO media_request (id, title) VALUES (%d, 'title %d');\n", i, i)
	}
	b.WriteString("COMMIT;\n")
	s.sql(t, ctx, b.String())
}

const countSQL = "SELECT count(*) FROM media_request"

// TestDataLatest runs the real Litestream 0.5 (the jobs' version) against a
// real S3 server (versitygw): the Nomad copy replicates to its bucket, the
// Kubernetes copy is seeded from it and replicates to its own bucket; the
// row count is the spot check on both databases and on the latest restore
// of the copy's bucket.
func TestDataLatest(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Fatal("sqlite3 not found: apt-get install -y sqlite3 (hack/test.sh installs it)")
	}
	ctx := ctxT(t, 5*time.Minute)
	bin, err := testworld.LitestreamBin("0.5")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s3, err := testworld.StartS3(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s3.Stop() })
	root := objstore.Credentials{AccessKey: s3.AccessKey, SecretKey: s3.SecretKey}
	mc, err := minio.New(strings.TrimPrefix(s3.Endpoint, "http://"), &minio.Options{Creds: credentials.NewStaticV4(root.AccessKey, root.SecretKey, ""), BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"overseerr-litestream", "overseerr-k8s-litestream"} {
		if err := mc.MakeBucket(ctx, b, minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	nomad := newSide(t, bin, dir, "nomad", s3.Endpoint, "overseerr-litestream", root)
	kube := newSide(t, bin, dir, "kube", s3.Endpoint, "overseerr-k8s-litestream", root)
	nomad.sql(t, ctx, "PRAGMA journal_mode=WAL;\nCREATE TABLE media_request (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\n")
	nomad.insert(t, ctx, 1, 100)
	nomad.replicate(t, ctx)
	// The copy's init container seeds it from the Nomad replica.
	nomad.litestream(t, ctx, "restore", "-config", nomad.cfg, "-o", kube.db, nomad.db)
	kube.sql(t, ctx, "PRAGMA journal_mode=WAL;\n")

	in := cutover.DataInput{
		Service: "overseerr",
		Replica: cutover.Replica{Bin: bin, Endpoint: s3.Endpoint, Bucket: "overseerr-k8s-litestream", Path: "db", Creds: root},
		Spot: cutover.SpotCheck{What: "rows in media_request",
			Nomad:      cutover.Command{"sqlite3", nomad.db, countSQL},
			Kubernetes: cutover.Command{"sqlite3", kube.db, countSQL},
			Replica:    func(db string) cutover.Spot { return cutover.Command{"sqlite3", db, countSQL} }},
		WorkDir: dir,
	}
	check := func(t *testing.T, want status.Status, found ...string) {
		t.Helper()
		got := cutover.DataLatest(ctx, in)
		t.Logf("%s: %s", got.Status, got.Found)
		if got.Status != want {
			t.Fatalf("got %s %q; want %s", got.Status, got.Found, want)
		}
		for _, f := range found {
			if !strings.Contains(got.Found, f) {
				t.Errorf("found %q lacks %q", got.Found, f)
			}
		}
		if strings.Contains(got.Found+got.Next, root.SecretKey) {
			t.Fatal("the S3 secret key was printed")
		}
		if want != status.Pass && got.Next == "" {
			t.Errorf("no next step: %+v", got)
		}
	}

	t.Run("the copy never replicated to its own bucket", func(t *testing.T) {
		check(t, status.Fail, "s3://overseerr-k8s-litestream/db holds no LTX file")
	})
	kube.replicate(t, ctx)
	t.Run("matching replica", func(t *testing.T) {
		check(t, status.Pass, "Nomad 100, Kubernetes 100, latest replica in s3://overseerr-k8s-litestream/db (TXID ", ") 100")
	})
	t.Run("stale replica in the copy's own bucket", func(t *testing.T) {
		// Both databases take the same writes; the copy's sidecar does not
		// replicate them.
		nomad.insert(t, ctx, 101, 105)
		kube.insert(t, ctx, 101, 105)
		check(t, status.Fail, "the latest replica in its own bucket is stale", "Nomad 105, Kubernetes 105", ") 100")
	})
	t.Run("replicated again", func(t *testing.T) {
		kube.replicate(t, ctx)
		check(t, status.Pass, "Nomad 105, Kubernetes 105", ") 105")
	})
	t.Run("writes on Nomad the copy missed", func(t *testing.T) {
		nomad.insert(t, ctx, 106, 120)
		check(t, status.Fail, "the Kubernetes copy differs from Nomad", "Nomad 120, Kubernetes 105")
	})
	t.Run("the Nomad side cannot be read", func(t *testing.T) {
		in := in
		in.Spot.Nomad = cutover.Command{"sqlite3", filepath.Join(dir, "missing", "db.sqlite3"), countSQL}
		got := cutover.DataLatest(ctx, in)
		if got.Status != status.Fail || !strings.HasPrefix(got.Found, "on Nomad: sqlite3") || got.Next == "" {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("no spot check configured", func(t *testing.T) {
		in := in
		in.Spot.Replica = nil
		got := cutover.DataLatest(ctx, in)
		if got.Status != status.Fail || !strings.Contains(got.Found, "no spot check configured") {
			t.Fatalf("%+v", got)
		}
	})
}

// TestVolumePaths reads the Nomad simulator's plex job (volume config on
// glusterfs_plex_config at /config) and a Deployment in the test world.
func TestVolumePaths(t *testing.T) {
	ctx := ctxT(t, 2*time.Minute)
	_, nc := sim(t)
	nomad := cutover.FromClient(nc)
	ns := world.Namespace(t)
	in := cutover.VolumesInput{Service: "plex", Kube: world.Client, Namespace: ns}
	var err error
	if in.Job, err = nomad.ReadJob(ctx, "default", "plex"); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app.kubernetes.io/name": "plex"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "plex", Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/storage/v/glusterfs_plex_config"}}}},
				Containers: []corev1.Container{{Name: "plex", Image: "plexinc/pms-docker:1.41.3",
					VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/data"}}}}}}}}
	if _, err := world.Client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got := cutover.VolumePaths(ctx, in)
	if got.Status != status.Fail || !strings.Contains(got.Found, "/config (glusterfs_plex_config, task plex; Deployment "+ns+"/plex mounts /data)") || got.Next == "" {
		t.Fatalf("a copy mounting /data instead of /config: %+v", got)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := world.Client.AppsV1().Deployments(ns).Get(ctx, "plex", metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].VolumeMounts[0].MountPath = "/config"
		_, err = world.Client.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got = cutover.VolumePaths(ctx, in)
	if got.Status != status.Pass || !strings.Contains(got.Found, "/config (glusterfs_plex_config, task plex)") {
		t.Fatalf("a copy mounting /config: %+v", got)
	}
	in.Service = "whoami"
	if in.Job, err = nomad.ReadJob(ctx, "default", "whoami"); err != nil {
		t.Fatal(err)
	}
	if got := cutover.VolumePaths(ctx, in); got.Status != status.Pass || !strings.Contains(got.Found, "mounts no volume") {
		t.Fatalf("a job without volumes: %+v", got)
	}
}

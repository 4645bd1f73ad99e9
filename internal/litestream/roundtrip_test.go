package litestream_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"
	"github.com/minio/minio-go/v7"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"migrate-tui/internal/litestream"
	"migrate-tui/internal/objstore"
)

// nomadEndpoint is how the homelab's jobs reach MinIO (through their Envoy
// sidecars); here the S3 server's address stands in for that route.
const nomadEndpoint = "http://minio-minio.virtual.consul:9000"

// TestNomadReplicaRestoredByTheInitContainer: the Nomad overseerr job's
// Litestream (its image tag, its litestream.yml template rendered from
// Vault, its replicate command) replicates a real SQLite database; then the
// overseerr module's init container, as OpenTofu renders it (command,
// environment resolved through the ExternalSecret and Vault, ConfigMap
// files at their mount paths), restores it with the Litestream of its image
// tag, and the rows match. The Kubernetes sidecar then replicates to the
// copy's own bucket, and the Nomad bucket is unchanged throughout.
func TestNomadReplicaRestoredByTheInitContainer(t *testing.T) {
	requireSQLite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	job, _, err := nomad.Jobs().Info("overseerr", (&nomadapi.QueryOptions{}).WithContext(ctx))
	must(t, err)
	versions := litestream.NomadVersions(job)
	if len(versions) != 1 {
		t.Fatalf("Nomad job overseerr runs Litestream %v, want one version", versions)
	}
	nomadTag := versions[0]

	// --- Nomad side: the replicate sidecar, as the job defines it.
	task := findTask(t, job, "litestream")
	nroot := newContainerRoot(t, "nomad-litestream", nomadTag)
	for _, tp := range task.Templates {
		text := renderConsulTemplate(t, ctx, *tp.EmbeddedTmpl)
		if !strings.Contains(text, nomadEndpoint) {
			t.Fatalf("the job's litestream.yml does not name %s:\n%s", nomadEndpoint, text)
		}
		text = strings.ReplaceAll(text, nomadEndpoint, s3.Endpoint)
		dest := nroot.at(filepath.Join("/", *tp.DestPath)) // the task dir's local/ is /local
		must(t, os.MkdirAll(filepath.Dir(dest), 0o755))
		must(t, os.WriteFile(dest, []byte(text), 0o600))
	}
	must(t, os.MkdirAll(nroot.at("/alloc/data"), 0o755))
	nomadDB := nroot.at("/alloc/data/db.sqlite3")
	createDB(t, ctx, nomadDB, 40)
	argv := append([]string{"litestream"}, taskArgs(t, task)...)
	if argv[1] != "replicate" {
		t.Fatalf("the job's litestream sidecar runs %v, want replicate", argv)
	}
	repl := nroot.command(ctx, nil, argv...)
	replLog := &strings.Builder{}
	repl.Stdout, repl.Stderr = replLog, replLog
	must(t, repl.Start())
	insertRows(t, ctx, nomadDB, 41, 100) // written while replicating
	cfgArg := argAfter(argv, "-config")
	// Replicated when a restore of the replica (same binary, same config)
	// holds every row.
	err = wait.PollUntilContextTimeout(ctx, time.Second, 4*time.Minute, true, func(ctx context.Context) (bool, error) {
		_ = os.Remove(nroot.at("/tmp/check.db"))
		if out, err := nroot.command(ctx, nil, "litestream", "restore", "-config", cfgArg, "-o", "/tmp/check.db", "/alloc/data/db.sqlite3").CombinedOutput(); err != nil {
			t.Logf("replica not restorable yet: %v: %s", err, lastLine(out))
			return false, nil
		}
		n, err := countRows(ctx, nroot.at("/tmp/check.db"))
		return err == nil && n == 100, nil
	})
	stopProc(repl)
	if err != nil {
		t.Fatalf("the Nomad job's Litestream did not replicate all 100 rows: %v\nreplicate log:\n%s", err, replLog)
	}
	want, err := rows(ctx, nomadDB)
	must(t, err)
	nomadBefore := listObjects(t, ctx, nomadBucket)
	if len(nomadBefore) == 0 {
		t.Fatal("the Nomad bucket holds no object after replication")
	}

	// --- The services stage's check of the copy's own bucket.
	creds, from, err := objstore.CredentialsFrom(ctx, func(string) string { return "" }, objstore.VaultKV{Client: vault}, kvMount, "default/overseerr-k8s")
	must(t, err)
	res, err := objstore.Ensure(ctx, objstore.Target{Endpoint: s3.Endpoint, Bucket: kubeBucket, Creds: creds, CredsFrom: from, Forbidden: []string{nomadBucket}})
	if err != nil {
		t.Fatalf("bucket check: %v", err)
	}
	t.Logf("bucket check: %s", strings.Join(res.Checked, "; "))

	// --- Kubernetes side, at the Nomad job's version.
	r := renderOverseerr(t, ctx, moduleVars(nomadTag))
	t.Run("init container restores the Nomad replica", func(t *testing.T) {
		init := r.initContainer(t, "litestream-restore")
		kroot, db := runInit(t, ctx, r, init)
		got, err := rows(ctx, db)
		if err != nil {
			t.Fatalf("no database after the init container: %v", err)
		}
		if got != want {
			t.Fatalf("restored rows differ from the Nomad database:\n got %d bytes\nwant %d bytes", len(got), len(want))
		}

		// The sidecar replicates into the copy's own bucket.
		side := container(t, r.sts.Spec.Template.Spec.Containers, "litestream")
		env := resolveEnv(t, ctx, r, side.Env)
		for _, kv := range env {
			if strings.HasPrefix(kv, "NOMAD_") {
				t.Errorf("the replicate sidecar receives %s: it must only hold the copy's own credentials", strings.SplitN(kv, "=", 2)[0])
			}
		}
		sc := kroot.command(ctx, env, append(side.Command, side.Args...)...)
		sideLog := &strings.Builder{}
		sc.Stdout, sc.Stderr = sideLog, sideLog
		must(t, sc.Start())
		err = wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
			return len(listObjects(t, ctx, kubeBucket)) > 0, nil
		})
		stopProc(sc)
		if err != nil {
			t.Fatalf("the sidecar wrote nothing into %s: %v\n%s", kubeBucket, err, sideLog)
		}
		// What SC-003 runs in the sidecar for 0.5 (it has no `snapshots`).
		out, err := kroot.command(ctx, env, "litestream", "ltx", "-config", "/etc/litestream/litestream.yml", "/app/config/db/db.sqlite3").CombinedOutput()
		if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); err != nil || len(lines) < 2 || !strings.HasPrefix(lines[0], "level") {
			t.Errorf("litestream ltx on the copy's replica: %v\n%s", err, out)
		}
	})

	// --- The agent-injector variant: Vault Agent renders the annotation's
	// template into /vault/secrets/litestream.env, which the init
	// container's script sources.
	t.Run("agent injector template feeds the init container", func(t *testing.T) {
		vars := moduleVars(nomadTag)
		vars["vault_method"] = "agent-injector"
		ri := renderOverseerr(t, ctx, vars)
		ann := ri.sts.Spec.Template.Annotations
		tmpl := ann["vault.hashicorp.com/agent-inject-template-litestream.env"]
		if tmpl == "" {
			t.Fatalf("no injector template in %v", ann)
		}
		// A secret with shell metacharacters is exported exactly as stored
		// when the rendered file is sourced by a real sh.
		hostile := `a'b"c$HOME` + "`id`\\d"
		file := renderConsulTemplateWith(t, tmpl, func(string) (*vaultapi.Secret, error) {
			return &vaultapi.Secret{Data: map[string]any{"data": map[string]any{"MINIO_ACCESS_KEY": hostile, "MINIO_SECRET_KEY": hostile}}}, nil
		})
		envPath := filepath.Join(t.TempDir(), "litestream.env")
		must(t, os.WriteFile(envPath, []byte(file), 0o600))
		out, err := exec.CommandContext(ctx, "sh", "-c", `. "$1" && printf %s "$LITESTREAM_SECRET_ACCESS_KEY"`, "sh", envPath).CombinedOutput()
		if err != nil || string(out) != hostile {
			t.Fatalf("sourcing the injector's file gave %q (%v), want the secret %q:\n%s", out, err, hostile, file)
		}

		envFile := renderConsulTemplate(t, ctx, tmpl)
		init := ri.initContainer(t, "litestream-restore")
		root := newContainerRoot(t, "k8s-injector", imageTag(t, init.Image))
		must(t, os.MkdirAll(root.at("/vault/secrets"), 0o755))
		must(t, os.WriteFile(root.at("/vault/secrets/litestream.env"), []byte(envFile), 0o600))
		_, db := runInitIn(t, ctx, ri, init, root, false)
		if got, err := rows(ctx, db); err != nil || got != want {
			t.Fatalf("injector variant: restored rows differ (%v)", err)
		}
	})

	// --- 0.3 cannot restore 0.5's format: the restore finds nothing, and
	// with -if-replica-exists exits 0 leaving no database (the copy would
	// start empty).
	t.Run("Litestream 0.3 cannot restore the 0.5 replica", func(t *testing.T) {
		if litestream.MajorMinor(nomadTag) != "0.5" {
			t.Skipf("the Nomad job runs %s", nomadTag)
		}
		var mm *litestream.VersionMismatchError
		if err := litestream.Match(job, "0.3.13", "overseerr_litestream_version"); !errors.As(err, &mm) {
			t.Errorf("Match(job, 0.3.13) = %v, want a VersionMismatchError", err)
		}
		if err := litestream.Match(job, "0.5.18", "overseerr_litestream_version"); err != nil {
			t.Errorf("Match(job, 0.5.18) = %v", err)
		}
		old := renderOverseerr(t, ctx, moduleVars("0.3.13"))
		init := old.initContainer(t, "litestream-restore")
		kroot, db := runInitAllowFail(t, ctx, old, init, true)
		if _, err := os.Stat(db); err == nil {
			got, _ := rows(ctx, db)
			if got == want {
				t.Fatal("Litestream 0.3.13 restored the 0.5 replica: the on-bucket formats are supposed to differ")
			}
		}
		// Without -if-replica-exists the same restore fails outright.
		env := resolveEnv(t, ctx, old, init.Env)
		out, err := kroot.command(ctx, env, "litestream", "restore", "-config", "/etc/litestream/seed.yml", "-o", "/tmp/x.db", "/app/config/db/db.sqlite3").CombinedOutput()
		if err == nil {
			t.Fatalf("litestream 0.3.13 restore of the 0.5 replica succeeded:\n%s", out)
		}
		// 0.3's restore finds no generation it knows in the LTX layout and
		// says so (litestream v0.3.13 cmd/litestream/restore.go); any other
		// failure (config, credentials, endpoint) would prove nothing.
		if !strings.Contains(string(out), "no matching backups found") {
			t.Fatalf("litestream 0.3.13 restore failed, but not for want of a backup it can read: %v\n%s", err, out)
		}
		t.Logf("0.3.13 restore of the 0.5 replica: %v: %s", err, lastLine(out))
	})

	t.Run("the Nomad bucket is unchanged", func(t *testing.T) {
		after := listObjects(t, ctx, nomadBucket)
		if !maps.Equal(nomadBefore, after) {
			t.Fatalf("the Nomad bucket changed:\nbefore %v\nafter  %v", nomadBefore, after)
		}
	})
}

// moduleVars are the overseerr module's inputs for the test: the S3 server
// as minio_endpoint, ExternalSecrets for the credentials, an emptyDir
// database (restored at every start).
func moduleVars(litestreamTag string) map[string]any {
	return map[string]any{
		"namespace": "poc", "domain": "example.org", "cluster_cidr": "10.42.0.0/16", "lan_cidr": "192.168.1.0/24",
		"node_port": 30011, "storage_backend": "local-path", "local_storage_class": "",
		"minio_endpoint": s3.Endpoint, "litestream_bucket": kubeBucket, "vault_method": "external-secrets",
		"vault_kv_mount": kvMount, "litestream_version": litestreamTag,
	}
}

// runInit runs the rendered init container and fails the test if it fails.
func runInit(t *testing.T, ctx context.Context, r rendered, c corev1.Container) (*containerRoot, string) {
	t.Helper()
	return runInitAllowFail(t, ctx, r, c, false)
}

func runInitAllowFail(t *testing.T, ctx context.Context, r rendered, c corev1.Container, allowFail bool) (*containerRoot, string) {
	t.Helper()
	return runInitIn(t, ctx, r, c, newContainerRoot(t, "k8s-"+c.Name, imageTag(t, c.Image)), allowFail)
}

// runInitIn runs init container c in root: its volumes at their mount
// paths (ConfigMap files written), its command with its environment.
func runInitIn(t *testing.T, ctx context.Context, r rendered, c corev1.Container, root *containerRoot, allowFail bool) (*containerRoot, string) {
	t.Helper()
	var dbPath string
	for _, m := range c.VolumeMounts {
		dir := root.at(m.MountPath)
		must(t, os.MkdirAll(dir, 0o755))
		if cm := configMapOf(r, m.Name); cm != nil {
			for k, v := range cm {
				must(t, os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644))
			}
		}
		if m.Name == "db" {
			dbPath = filepath.Join(dir, "db.sqlite3")
		}
	}
	if dbPath == "" {
		t.Fatalf("init container %s mounts no volume db", c.Name)
	}
	env := resolveEnv(t, ctx, r, c.Env)
	out, err := root.command(ctx, env, append(c.Command, c.Args...)...).CombinedOutput()
	if err != nil && !allowFail {
		t.Fatalf("init container %s (%s) failed: %v\n%s", c.Name, c.Image, err, out)
	}
	t.Logf("init container %s (%s): %v: %s", c.Name, c.Image, err, lastLine(out))
	return root, dbPath
}

// configMapOf is the rendered ConfigMap's data when volume is one of it.
func configMapOf(r rendered, volume string) map[string]string {
	for _, v := range r.sts.Spec.Template.Spec.Volumes {
		if v.Name == volume && v.ConfigMap != nil && v.ConfigMap.Name == r.configMap.Name {
			return r.configMap.Data
		}
	}
	return nil
}

// resolveEnv is the container's environment as the kubelet would set it:
// plain values, and Secret keys filled by the ExternalSecret from Vault.
func resolveEnv(t *testing.T, ctx context.Context, r rendered, env []corev1.EnvVar) []string {
	t.Helper()
	var out []string
	for _, e := range env {
		switch {
		case e.ValueFrom == nil:
			out = append(out, e.Name+"="+e.Value)
		case e.ValueFrom.SecretKeyRef != nil:
			key, prop, err := r.secretEnv(e.ValueFrom.SecretKeyRef)
			must(t, err)
			s, err := vault.KVv2(kvMount).Get(ctx, key)
			if err != nil {
				t.Fatalf("env %s: Vault %s/%s: %v", e.Name, kvMount, key, err)
			}
			v, ok := s.Data[prop].(string)
			if !ok {
				t.Fatalf("env %s: Vault %s/%s has no %s (keys %v)", e.Name, kvMount, key, prop, slicesKeys(s.Data))
			}
			out = append(out, e.Name+"="+v)
		default:
			t.Fatalf("env %s: unsupported source %+v", e.Name, e.ValueFrom)
		}
	}
	return out
}

// renderConsulTemplate renders a Nomad template block the way Nomad's
// template runner (consul-template, Go text/template) does for the one
// function the jobs use: secret "mount/data/key".
func renderConsulTemplate(t *testing.T, ctx context.Context, text string) string {
	t.Helper()
	return renderConsulTemplateWith(t, text, func(path string) (*vaultapi.Secret, error) {
		return vault.Logical().ReadWithContext(ctx, path)
	})
}

// renderConsulTemplateWith renders text with the consul-template functions
// the repository's templates use: secret (from read) and replaceAll, which
// consul-template defines as replaceAll(old, new, s) (hashicorp/consul-template
// template/funcs.go).
func renderConsulTemplateWith(t *testing.T, text string, read func(string) (*vaultapi.Secret, error)) string {
	t.Helper()
	tpl, err := template.New("nomad").Funcs(template.FuncMap{
		"secret":     read,
		"replaceAll": func(f, to, s string) (string, error) { return strings.ReplaceAll(s, f, to), nil },
	}).Parse(text)
	must(t, err)
	var b strings.Builder
	must(t, tpl.Execute(&b, nil))
	return b.String()
}

func findTask(t *testing.T, job *nomadapi.Job, name string) *nomadapi.Task {
	t.Helper()
	for _, tg := range job.TaskGroups {
		for _, tk := range tg.Tasks {
			if tk.Name == name {
				return tk
			}
		}
	}
	t.Fatalf("job %s has no task %s", *job.ID, name)
	return nil
}

func taskArgs(t *testing.T, task *nomadapi.Task) []string {
	t.Helper()
	raw, _ := task.Config["args"].([]any)
	var out []string
	for _, a := range raw {
		out = append(out, fmt.Sprint(a))
	}
	if len(out) == 0 {
		t.Fatalf("task %s has no args: %v", task.Name, task.Config)
	}
	return out
}

func container(t *testing.T, cs []corev1.Container, name string) corev1.Container {
	t.Helper()
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s", name)
	return corev1.Container{}
}

func imageTag(t *testing.T, image string) string {
	t.Helper()
	v, ok := litestream.ImageVersion(image)
	if !ok {
		t.Fatalf("image %s is not a tagged litestream image", image)
	}
	return v
}

func argAfter(argv []string, flag string) string {
	for i := range argv[:len(argv)-1] {
		if argv[i] == flag {
			return argv[i+1]
		}
	}
	return ""
}

// listObjects is key → etag/size of every object in bucket (root account).
func listObjects(t *testing.T, ctx context.Context, bucket string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for o := range rootS3.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list %s: %v", bucket, o.Err)
		}
		out[o.Key] = fmt.Sprintf("%s/%d", o.ETag, o.Size)
	}
	return out
}

// stopProc ends a started command (SIGTERM, then SIGKILL if it lingers).
func stopProc(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func slicesKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

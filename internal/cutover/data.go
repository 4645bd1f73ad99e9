package cutover

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"migrate-tui/internal/objstore"
)

// Replica is the Kubernetes copy's own Litestream replica (its bucket, not
// the Nomad job's), read with the real litestream binary.
type Replica struct {
	// Bin is the litestream binary at the copy's version; 0.5 lists its
	// LTX files as JSON (the position shown as evidence).
	Bin      string
	Endpoint string // http://minio-minio.service.consul:9000
	Bucket   string
	Path     string // replicas[].path in the copy's litestream.yml (db)
	Region   string // default us-east-1
	// Creds are the copy's own keys; they reach litestream only through its
	// environment (LITESTREAM_ACCESS_KEY_ID, LITESTREAM_SECRET_ACCESS_KEY).
	Creds objstore.Credentials
}

func (r Replica) String() string { return "s3://" + r.Bucket + "/" + r.Path }

// Spot reads the spot value on one side: a Command here, or whatever
// reaches the side (a pod exec through client-go, the sandbox's stand-in).
type Spot interface {
	Value(ctx context.Context) (string, error)
}

// Command is a Spot that runs argv here and takes its trimmed stdout
// (nomad alloc exec ..., kubectl exec ..., sqlite3 FILE ...).
type Command []string

func (c Command) Value(ctx context.Context) (string, error) {
	if len(c) == 0 {
		return "", errors.New("empty command")
	}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, c[0], c[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %v: %s", c[0], err, lastLines(errb.Bytes()))
	}
	return strings.TrimSpace(out.String()), nil
}

// SpotCheck compares one value (a row count, a file digest) on the Nomad
// instance, on the Kubernetes copy, and in the latest restore of the
// copy's own bucket.
type SpotCheck struct {
	What       string // "rows in media_request"
	Nomad      Spot   // Command{"nomad", "alloc", "exec", "-task", "overseerr", ALLOC, "sqlite3", "/alloc/data/db.sqlite3", "SELECT count(*) FROM media_request"}
	Kubernetes Spot   // Command{"kubectl", "-n", "poc", "exec", "overseerr-0", "-c", "overseerr", "--", "sqlite3", ...}
	// Replica reads the restored database at the path it is given.
	Replica func(db string) Spot // func(db string) Spot { return Command{"sqlite3", db, "SELECT count(*) FROM media_request"} }
}

// DataInput is the data check's input (stateful services).
type DataInput struct {
	Service string
	Replica Replica
	Spot    SpotCheck
	// WorkDir holds the restore while the check runs (default: a temp dir);
	// it is removed afterwards.
	WorkDir string
}

// ltxFile is one entry of litestream 0.5's `ltx -json`.
type ltxFile struct {
	Level     int    `json:"level"`
	MinTXID   string `json:"min_txid"`
	MaxTXID   string `json:"max_txid"`
	Timestamp string `json:"timestamp"`
}

// DataLatest checks the Kubernetes copy's data: the latest replica in its
// own bucket restores (real litestream restore), and the spot check gives
// the same value on Nomad, on the live copy and on that restore. A copy
// that differs from Nomad missed writes (the final sync); a restore that
// differs from the live copy means its bucket is stale, and a pod restart
// would bring back old data.
func DataLatest(ctx context.Context, in DataInput) GateCheck {
	r := in.Replica
	what := in.Spot.What
	if what == "" {
		what = "the spot check"
	}
	c := GateCheck{ID: "data", Checked: fmt.Sprintf("%s of %s agrees on Nomad, on the Kubernetes copy and in the latest replica in its own bucket %s", what, in.Service, r)}
	if in.Spot.Nomad == nil || in.Spot.Kubernetes == nil || in.Spot.Replica == nil {
		c.Status, c.Found = Block, "no spot check configured (a command for the Nomad side, the Kubernetes side and the restored replica)"
		c.Next = "Configure the spot check for " + in.Service + " (e.g. a row count through sqlite3 on each side)."
		return c
	}
	nv, err := in.Spot.Nomad.Value(ctx)
	if err != nil {
		c.Status, c.Found, c.Next = Block, "on Nomad: "+err.Error(), "Check the Nomad allocation runs and the command works there (nomad alloc exec)."
		return c
	}
	kv, err := in.Spot.Kubernetes.Value(ctx)
	if err != nil {
		c.Status, c.Found, c.Next = Block, "on the Kubernetes copy: "+err.Error(), "Check the pod runs and the command works there (kubectl exec)."
		return c
	}
	dir, err := os.MkdirTemp(in.WorkDir, "migrate-tui-data-")
	if err != nil {
		c.Status, c.Found = Block, err.Error()
		return c
	}
	defer os.RemoveAll(dir)
	ls := litestreamCmd{r: r, dir: dir}
	if err := ls.writeConfig(); err != nil {
		c.Status, c.Found = Block, err.Error()
		return c
	}
	position := ""
	if files, ok, err := ls.ltx(ctx); err != nil {
		c.Status, c.Found, c.Next = Block, err.Error(), "Check the copy's S3 keys and endpoint reach "+r.Bucket+"."
		return c
	} else if ok && len(files) == 0 {
		c.Status, c.Found = Block, fmt.Sprintf("%s holds no LTX file: the Kubernetes copy has never replicated to its own bucket", r)
		c.Next = "Check the copy's litestream sidecar (kubectl logs <pod> -c litestream) and its bucket settings."
		return c
	} else if ok {
		last := files[0]
		for _, f := range files[1:] {
			if f.MaxTXID > last.MaxTXID {
				last = f
			}
		}
		position = fmt.Sprintf(" (TXID %s, written %s)", strings.TrimLeft(last.MaxTXID, "0"), last.Timestamp)
	}
	restored := filepath.Join(dir, "restored.db")
	if out, err := ls.run(ctx, "restore", "-config", ls.config(), "-o", restored, ls.dbPath()); err != nil {
		c.Status, c.Found = Block, fmt.Sprintf("restoring the latest replica from %s failed: %v: %s", r, err, lastLines(out))
		c.Next = "Check the copy's bucket holds a replica (litestream ltx " + r.String() + ") and its litestream sidecar replicates."
		return c
	}
	rv, err := in.Spot.Replica(restored).Value(ctx)
	if err != nil {
		c.Status, c.Found, c.Next = Block, "on the restored replica: "+err.Error(), "Check the spot check's replica command."
		return c
	}
	evidence := fmt.Sprintf("%s: Nomad %s, Kubernetes %s, latest replica in %s%s %s", what, nv, kv, r, position, rv)
	switch {
	case nv != kv:
		c.Status, c.Found = Block, "the Kubernetes copy differs from Nomad — "+evidence
		c.Next = "Writes reached Nomad after the copy was seeded: do the final sync in order (data-sync-order) before moving traffic."
	case rv != kv:
		c.Status, c.Found = Block, fmt.Sprintf("the latest replica in its own bucket is stale — %s", evidence)
		c.Next = "The copy's litestream sidecar is not replicating to " + r.Bucket + " (kubectl logs <pod> -c litestream); a pod restart now would restore old data."
	default:
		c.Status, c.Found = Pass, evidence
	}
	return c
}

func lastLines(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, " | ")
}

// litestreamCmd runs the litestream binary against the replica with a
// config of its own and an environment of exactly PATH and the keys (the
// caller's AWS_* settings must not change what the S3 client does).
type litestreamCmd struct {
	r   Replica
	dir string
}

func (l litestreamCmd) config() string { return filepath.Join(l.dir, "litestream.yml") }

// dbPath only names the database in the config: it is never opened.
func (l litestreamCmd) dbPath() string { return filepath.Join(l.dir, "db.sqlite3") }

func (l litestreamCmd) writeConfig() error {
	region := l.r.Region
	if region == "" {
		region = "us-east-1"
	}
	cfg := map[string]any{"dbs": []any{map[string]any{
		"path": l.dbPath(),
		"replicas": []any{map[string]any{
			"type": "s3", "bucket": l.r.Bucket, "path": l.r.Path, "endpoint": l.r.Endpoint,
			"region": region, "force-path-style": true,
		}},
	}}}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(l.config(), b, 0o600)
}

func (l litestreamCmd) env() []string {
	return []string{"PATH=/usr/bin:/bin", "HOME=" + l.dir,
		"LITESTREAM_ACCESS_KEY_ID=" + l.r.Creds.AccessKey, "LITESTREAM_SECRET_ACCESS_KEY=" + l.r.Creds.SecretKey}
}

func (l litestreamCmd) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, l.r.Bin, args...)
	cmd.Env = l.env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// ltx lists the replica's LTX files at every level (litestream 0.5); ok
// is false for a litestream without LTX files (0.3).
func (l litestreamCmd) ltx(ctx context.Context) ([]ltxFile, bool, error) {
	v, err := l.run(ctx, "version")
	if err != nil {
		return nil, false, fmt.Errorf("%s version: %v: %s", l.r.Bin, err, lastLines(v))
	}
	if !strings.HasPrefix(strings.TrimSpace(string(v)), "v0.5") {
		return nil, false, nil
	}
	cmd := exec.CommandContext(ctx, l.r.Bin, "ltx", "-json", "-level", "all", "-config", l.config(), l.dbPath())
	cmd.Env = l.env()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, true, fmt.Errorf("listing %s (litestream ltx): %v: %s", l.r, err, lastLines(errb.Bytes()))
	}
	var files []ltxFile
	if s := bytes.TrimSpace(out.Bytes()); len(s) > 0 && !bytes.Equal(s, []byte("null")) {
		if err := json.Unmarshal(s, &files); err != nil {
			return nil, true, errors.New("litestream ltx -json: " + err.Error())
		}
	}
	return files, true, nil
}

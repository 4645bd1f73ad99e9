package stages

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"migrate-tui/internal/litestream"
	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/objstore"
	"migrate-tui/internal/testworld"
	"migrate-tui/internal/vaultsim"
)

// servicesEnv is a Nomad simulator seeded with the homelab (overseerr runs
// Litestream 0.5 into overseerr-litestream), a Vault simulator with the
// copies' MinIO keys and a real S3 server (versitygw) with the Nomad bucket
// holding a replica object.
type servicesEnv struct {
	nomad *nomadsim.Server
	nc    *nomadwatch.Client
	vault objstore.KVReader
	s3    *testworld.S3
	root  *minio.Client
}

func newServicesEnv(t *testing.T) *servicesEnv {
	t.Helper()
	ctx := context.Background()
	e := &servicesEnv{nomad: nomadsim.New(nomadsim.Options{Token: "services-test"})}
	must(t, e.nomad.Start("127.0.0.1:0"))
	t.Cleanup(func() { e.nomad.Close() })
	var err error
	e.nc, err = nomadwatch.NewClient(e.nomad.URL(), e.nomad.Token())
	must(t, err)
	vs := vaultsim.New("vault-token")
	must(t, vs.Start("127.0.0.1:0"))
	t.Cleanup(func() { vs.Close() })
	vc, err := vaultapi.NewClient(&vaultapi.Config{Address: vs.URL()})
	must(t, err)
	vc.SetToken("vault-token")
	e.vault = objstore.VaultKV{Client: vc}
	e.s3, err = testworld.StartS3(ctx, t.TempDir())
	must(t, err)
	t.Cleanup(func() { e.s3.Stop() })
	must(t, e.s3.CreateAccount(ctx, "k8scopy", "k8s-copy-secret-123", "userplus"))
	must(t, e.s3.CreateAccount(ctx, "readonly", "readonly-secret-1234", "user"))
	vs.PutKV("nomad", "default/overseerr-k8s", map[string]any{"MINIO_ACCESS_KEY": "k8scopy", "MINIO_SECRET_KEY": "k8s-copy-secret-123"})
	vs.PutKV("nomad", "default/readonly", map[string]any{"MINIO_ACCESS_KEY": "readonly", "MINIO_SECRET_KEY": "readonly-secret-1234"})
	e.root, err = minio.New(strings.TrimPrefix(e.s3.Endpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(e.s3.AccessKey, e.s3.SecretKey, ""), BucketLookup: minio.BucketLookupPath})
	must(t, err)
	must(t, e.root.MakeBucket(ctx, "overseerr-litestream", minio.MakeBucketOptions{}))
	_, err = e.root.PutObject(ctx, "overseerr-litestream", "db/ltx/0/0000000000000001-0000000000000001.ltx", strings.NewReader("replica"), 7, minio.PutObjectOptions{})
	must(t, err)
	return e
}

func (e *servicesEnv) check(t *testing.T, tfvars string, checked *[]string) ServicesCheck {
	t.Helper()
	p := filepath.Join(t.TempDir(), "terraform.tfvars")
	must(t, os.WriteFile(p, []byte(tfvars), 0o644))
	env := map[string]string{EnvS3Endpoint: e.s3.Endpoint}
	return ServicesCheck{TfvarsPath: p, Nomad: e.nc, Vault: e.vault, Getenv: func(k string) string { return env[k] }, Checked: checked}
}

func (e *servicesEnv) objects(t *testing.T, bucket string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for o := range e.root.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Recursive: true}) {
		must(t, o.Err)
		out[o.Key] = fmt.Sprintf("%s/%d", o.ETag, o.Size)
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestServicesCheck: the services stage's pre-check against the Nomad
// simulator, Vault simulator and a real S3 server.
func TestServicesCheck(t *testing.T) {
	e := newServicesEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	nomadBefore := e.objects(t, "overseerr-litestream")

	t.Run("defaults: version matches, bucket created and probed", func(t *testing.T) {
		var checked []string
		if err := e.check(t, "", &checked).Run(ctx); err != nil {
			t.Fatalf("pre-check with the defaults: %v", err)
		}
		all := strings.Join(checked, "; ")
		for _, want := range []string{"Litestream 0.5 matches Nomad job overseerr (0.5)", "bucket overseerr-k8s-litestream created", "probe object"} {
			if !strings.Contains(all, want) {
				t.Errorf("checked %q lacks %q", all, want)
			}
		}
		if ok, err := e.root.BucketExists(ctx, "overseerr-k8s-litestream"); err != nil || !ok {
			t.Errorf("bucket overseerr-k8s-litestream after the check: exists %v, %v", ok, err)
		}
		if objs := e.objects(t, "overseerr-k8s-litestream"); len(objs) != 0 {
			t.Errorf("the probe object was left behind: %v", objs)
		}
		// A second run finds the bucket.
		checked = nil
		must(t, e.check(t, "", &checked).Run(ctx))
		if all := strings.Join(checked, "; "); !strings.Contains(all, "bucket overseerr-k8s-litestream exists") {
			t.Errorf("second run: %q", all)
		}
	})

	t.Run("Litestream 0.3 refused against the job's 0.5", func(t *testing.T) {
		err := e.check(t, "overseerr_litestream_version = \"0.3.13\"\n", nil).Run(ctx)
		var mm *litestream.VersionMismatchError
		if !errors.As(err, &mm) || !strings.Contains(err.Error(), `overseerr_litestream_version = "0.5"`) {
			t.Fatalf("err = %v, want a VersionMismatchError naming the fix", err)
		}
	})

	t.Run("credentials that may not create the bucket: exactly what to create", func(t *testing.T) {
		err := e.check(t, "overseerr_litestream_vault_key = \"default/readonly\"\noverseerr_litestream_bucket = \"overseerr-k8s-other\"\n", nil).Run(ctx)
		var bm *objstore.BucketMissingError
		if !errors.As(err, &bm) {
			t.Fatalf("err = %v, want a BucketMissingError", err)
		}
		for _, want := range []string{"mc mb minio/overseerr-k8s-other", "arn:aws:s3:::overseerr-k8s-other/*", "s3:PutObject", "Vault nomad/default/readonly"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message lacks %q:\n%s", want, err)
			}
		}
		for _, secret := range []string{"readonly-secret-1234", "k8s-copy-secret-123"} {
			if strings.Contains(err.Error(), secret) {
				t.Fatal("the message prints a secret key")
			}
		}
	})

	t.Run("no credentials in Vault: says where to write them", func(t *testing.T) {
		err := e.check(t, "overseerr_litestream_vault_key = \"default/missing\"\n", nil).Run(ctx)
		if err == nil || !strings.Contains(err.Error(), "vault kv put -mount=nomad default/missing MINIO_ACCESS_KEY=... MINIO_SECRET_KEY=...") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("glusterfs-hostpath refused while the Nomad job runs", func(t *testing.T) {
		tf := "storage_backend = \"glusterfs-hostpath\"\n"
		err := e.check(t, tf, nil).Run(ctx)
		var sd *SharedDatabaseError
		if !errors.As(err, &sd) || !strings.Contains(err.Error(), "/storage/v/glusterfs_overseerr_config") {
			t.Fatalf("err = %v, want a SharedDatabaseError naming the directory", err)
		}
		// Once the Nomad job is stopped (what cutover does), it is allowed.
		must(t, e.nomad.StopJob("overseerr"))
		if err := e.check(t, tf, nil).Run(ctx); err != nil {
			t.Fatalf("with the Nomad job stopped: %v", err)
		}
	})

	t.Run("the Nomad bucket is unchanged", func(t *testing.T) {
		if after := e.objects(t, "overseerr-litestream"); !maps.Equal(nomadBefore, after) {
			t.Fatalf("the Nomad bucket changed:\nbefore %v\nafter  %v", nomadBefore, after)
		}
	})
}

// TestEnsureNeverWritesAForbiddenBucket: naming the Nomad bucket as the
// target is refused before any request.
func TestEnsureNeverWritesAForbiddenBucket(t *testing.T) {
	e := newServicesEnv(t)
	before := e.objects(t, "overseerr-litestream")
	_, err := objstore.Ensure(context.Background(), objstore.Target{Endpoint: e.s3.Endpoint, Bucket: "overseerr-litestream",
		Creds: objstore.Credentials{AccessKey: e.s3.AccessKey, SecretKey: e.s3.SecretKey}, CredsFrom: "test", Forbidden: []string{"overseerr-litestream"}})
	var fb *objstore.ForbiddenBucketError
	if !errors.As(err, &fb) {
		t.Fatalf("err = %v, want a ForbiddenBucketError", err)
	}
	if after := e.objects(t, "overseerr-litestream"); !maps.Equal(before, after) {
		t.Fatalf("the Nomad bucket changed: %v -> %v", before, after)
	}
	if s := fmt.Sprint(objstore.Credentials{AccessKey: "AK", SecretKey: "SK"}); strings.Contains(s, "SK") || strings.Contains(s, "AK") {
		t.Errorf("Credentials print as %q", s)
	}
}

package litestream_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/testworld"
	"migrate-tui/internal/vaultsim"
)

// The world every test here shares (started once, in TestMain): an API
// server and a real S3 server (versitygw, Options.S3) standing in for MinIO, the Nomad simulator seeded with
// the homelab's jobs, and the Vault simulator holding the MinIO keys.
var (
	world   *testworld.World
	s3      *testworld.S3
	nomad   *nomadapi.Client
	vault   *vaultapi.Client
	vaultKV *vaultsim.Server
	rootS3  *minio.Client
	tmpRoot string
)

const (
	nomadBucket = "overseerr-litestream"     // the Nomad job's (its litestream.yml)
	kubeBucket  = "overseerr-k8s-litestream" // overseerr_litestream_bucket's default
	kvMount     = "nomad"
)

// Accounts of the S3 server: the Nomad job's MinIO user owns the Nomad
// bucket; the Kubernetes copy's own user may create buckets (userplus) but
// cannot touch the Nomad bucket; a plain user may create nothing.
var (
	nomadUser = [2]string{"nomadoverseerr", "nomad-overseerr-secret-1"}
	kubeUser  = [2]string{"k8soverseerr", "k8s-overseerr-secret-12"}
	plainUser = [2]string{"plainuser", "plain-user-secret-1234"}
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var err error
	tmpRoot, err = os.MkdirTemp("", "litestream-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmpRoot)
	// An API server (for the StatefulSet update test) and the S3 server.
	if world, err = testworld.Start(ctx, testworld.Options{S3: true}); err != nil {
		fmt.Fprintln(os.Stderr, "litestream tests need the test world with S3:", err)
		return 1
	}
	defer world.Stop()
	s3 = world.S3
	if err := setupS3(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "S3 setup:", err)
		return 1
	}

	ns := nomadsim.New(nomadsim.Options{Token: "nomad-test-token"})
	if err := ns.Start("127.0.0.1:0"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer ns.Close()
	nc := nomadapi.DefaultConfig()
	nc.Address, nc.SecretID = ns.URL(), ns.Token()
	if nomad, err = nomadapi.NewClient(nc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	vaultKV = vaultsim.New("vault-test-token")
	if err := vaultKV.Start("127.0.0.1:0"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer vaultKV.Close()
	vaultKV.PutKV(kvMount, "default/overseerr", map[string]any{"MINIO_ACCESS_KEY": nomadUser[0], "MINIO_SECRET_KEY": nomadUser[1], "OTHER": "x"})
	vaultKV.PutKV(kvMount, "default/overseerr-k8s", map[string]any{"MINIO_ACCESS_KEY": kubeUser[0], "MINIO_SECRET_KEY": kubeUser[1]})
	vaultKV.PutKV(kvMount, "default/plain", map[string]any{"MINIO_ACCESS_KEY": plainUser[0], "MINIO_SECRET_KEY": plainUser[1]})
	vc := vaultapi.DefaultConfig()
	vc.Address = vaultKV.URL()
	if vault, err = vaultapi.NewClient(vc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	vault.SetToken("vault-test-token")
	return m.Run()
}

func setupS3(ctx context.Context) error {
	for _, a := range []struct {
		u    [2]string
		role string
	}{{nomadUser, "user"}, {kubeUser, "userplus"}, {plainUser, "user"}} {
		if err := s3.CreateAccount(ctx, a.u[0], a.u[1], a.role); err != nil {
			return err
		}
	}
	var err error
	rootS3, err = minio.New(s3.Endpoint[len("http://"):], &minio.Options{
		Creds: credentials.NewStaticV4(s3.AccessKey, s3.SecretKey, ""), BucketLookup: minio.BucketLookupPath})
	if err != nil {
		return err
	}
	// The Nomad copy's bucket exists already on the homelab (made by hand
	// with mc), owned by the job's MinIO user.
	if err := rootS3.MakeBucket(ctx, nomadBucket, minio.MakeBucketOptions{}); err != nil {
		return err
	}
	return s3.ChangeBucketOwner(ctx, nomadBucket, nomadUser[0])
}

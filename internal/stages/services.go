package stages

import (
	"context"
	"errors"
	"fmt"
	"migrate-tui/internal/decisions/tfanswers"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/nomad/api"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/litestream"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/objstore"
)

// NomadJobs reads one Nomad job (*nomadwatch.Client fits).
type NomadJobs interface {
	Job(ctx context.Context, id string) (*api.Job, error)
}

// EnvS3Endpoint overrides minio_endpoint for this check only, when the
// machine running migrate-tui does not resolve *.service.consul.
const EnvS3Endpoint = "MIGRATE_TUI_S3_ENDPOINT"

// ServicesCheck is the services stage's check before its plan, for
// Overseerr (SQLite + Litestream), of what Terraform cannot see:
//   - the Kubernetes copy's Litestream version matches the Nomad job's image
//     tag (0.3 cannot restore 0.5's format);
//   - storage_backend glusterfs-hostpath is refused while the Nomad job runs
//     (the copy would mount the live job's directory: two SQLite writers);
//   - the copy's own bucket exists and is writable with its own credentials
//     (Vault, or LITESTREAM_* in the environment), created when they allow;
//     the Nomad copy's bucket is never written.
type ServicesCheck struct {
	TfvarsPath string
	Nomad      NomadJobs
	Vault      objstore.KVReader // nil: only the environment
	Getenv     func(string) string
	// Ensure is objstore.Ensure unless a test replaces it.
	Ensure func(context.Context, objstore.Target) (objstore.Result, error)
	// Checked collects what passed, for the caller to show.
	Checked *[]string
}

// The Nomad job the Kubernetes copy of overseerr shadows.
const overseerrJob = "overseerr"

// Run implements PreApply.
func (c ServicesCheck) Run(ctx context.Context) error {
	a, _, err := tfanswers.Read(c.TfvarsPath)
	if err != nil {
		return err
	}
	if !slices.Contains(a.List("poc_services"), "overseerr") {
		return nil
	}
	getenv := c.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if c.Nomad == nil {
		return errors.New("no Nomad client: the services stage reads the Nomad overseerr job (its Litestream version and buckets) before it plans; set NOMAD_ADDR (and NOMAD_TOKEN)")
	}
	job, err := c.Nomad.Job(ctx, overseerrJob)
	var apiErr *nomadwatch.APIError
	if errors.As(err, &apiErr) && apiErr.Status == 404 {
		job, err = nil, nil // no Nomad copy: nothing to match or protect
	}
	if err != nil {
		return fmt.Errorf("reading Nomad job %s (its Litestream version and buckets): %w; check NOMAD_ADDR and NOMAD_TOKEN", overseerrJob, err)
	}
	var nomadBuckets []string
	if job != nil {
		if err := litestream.Match(job, a.Str("overseerr_litestream_version"), "overseerr_litestream_version"); err != nil {
			return err
		}
		c.note("Litestream %s matches Nomad job %s (%s)", a.Str("overseerr_litestream_version"), overseerrJob, strings.Join(litestream.NomadVersions(job), ", "))
		if a.Str("storage_backend") == "glusterfs-hostpath" && jobRunning(job) {
			return &SharedDatabaseError{Job: overseerrJob, Path: strings.TrimSuffix(a.Str("glusterfs_mount_root"), "/") + "/glusterfs_overseerr_config"}
		}
		nomadBuckets, _ = cutover.NomadBuckets(job)
	}
	// The module's seed_bucket default: never written, whatever Nomad says.
	if !slices.Contains(nomadBuckets, "overseerr-litestream") {
		nomadBuckets = append(nomadBuckets, "overseerr-litestream")
	}

	endpoint := a.Str("minio_endpoint")
	if e := getenv(EnvS3Endpoint); e != "" {
		endpoint = e
	}
	creds, from, err := objstore.CredentialsFrom(ctx, getenv, c.Vault, a.Str("vault_kv_mount"), a.Str("overseerr_litestream_vault_key"))
	if err != nil {
		return fmt.Errorf("the Kubernetes copy's Litestream credentials: %w", err)
	}
	ensure := c.Ensure
	if ensure == nil {
		ensure = objstore.Ensure
	}
	res, err := ensure(ctx, objstore.Target{Endpoint: endpoint, Bucket: a.Str("overseerr_litestream_bucket"), Creds: creds, CredsFrom: from, Forbidden: nomadBuckets})
	if err != nil {
		return err
	}
	for _, s := range res.Checked {
		c.note("%s", s)
	}
	return nil
}

func (c ServicesCheck) note(format string, args ...any) {
	if c.Checked != nil {
		*c.Checked = append(*c.Checked, fmt.Sprintf(format, args...))
	}
}

func jobRunning(j *api.Job) bool {
	return j.Status != nil && *j.Status == "running" && (j.Stop == nil || !*j.Stop)
}

// SharedDatabaseError: glusterfs-hostpath would mount the running Nomad
// job's config directory into the Kubernetes copy.
type SharedDatabaseError struct {
	Job  string
	Path string
}

func (e *SharedDatabaseError) Error() string {
	return fmt.Sprintf("storage_backend glusterfs-hostpath mounts %s, the directory of Nomad job %s, which is running: Overseerr on Nomad and on Kubernetes would both write it (its settings and any SQLite file there: two writers on one database). Use storage_backend = \"local-path\" for the PoC (the database comes from Litestream), or cut %s over first (migrate-tui cutover %s stops the Nomad job), then apply the services stage", e.Path, e.Job, e.Job, e.Job)
}

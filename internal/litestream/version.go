// Package litestream reads which Litestream a Nomad job runs and decides
// whether the Kubernetes copy's Litestream can restore what it replicates.
//
// Litestream 0.5 replaced the on-bucket format: 0.3 writes
// <path>/generations/<id>/{snapshots,wal} (v0.3.13 litestream.go
// GenerationsPath), 0.5 writes LTX files under <path>/ltx/<level>/ (v0.5.18
// litestream.go LTXDir, LTXLevelDir). A 0.3 restore of a 0.5 replica finds no generation:
// with -if-replica-exists it exits 0 and leaves no database, so the copy
// would start empty (internal/litestream/roundtrip_test.go shows it with the
// two real binaries). The versions must match major.minor.
package litestream

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// ImageVersion is the tag of a litestream image reference
// (litestream/litestream:0.5 → 0.5); ok is false for another image or no tag.
func ImageVersion(image string) (version string, ok bool) {
	repo, tag, found := strings.Cut(image, ":")
	if !found || strings.Contains(tag, "/") || !strings.Contains(repo, "litestream") {
		return "", false
	}
	tag, _, _ = strings.Cut(tag, "@")
	return strings.TrimPrefix(tag, "v"), tag != ""
}

// NomadVersions are the Litestream versions a job's litestream tasks run
// (their image tags), sorted; none when the job runs no Litestream.
func NomadVersions(job *api.Job) []string {
	var out []string
	for _, tg := range job.TaskGroups {
		for _, t := range tg.Tasks {
			image, _ := t.Config["image"].(string)
			if v, ok := ImageVersion(image); ok && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	slices.Sort(out)
	return out
}

// MajorMinor is "0.5" for 0.5, 0.5.18 or v0.5.18.
func MajorMinor(v string) string {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// VersionMismatchError: the Kubernetes copy's Litestream cannot restore
// the Nomad job's replica format.
type VersionMismatchError struct {
	Job     string
	Nomad   []string // the job's Litestream image tags
	Kube    string   // overseerr_litestream_version
	Setting string   // the terraform.tfvars key to change
}

func (e *VersionMismatchError) Error() string {
	if len(e.Nomad) > 1 {
		return fmt.Sprintf("Nomad job %s runs several Litestream versions (%s); the Kubernetes copy runs %s: make the job's litestream tasks agree, then set %s in terraform.tfvars to that version", e.Job, strings.Join(e.Nomad, ", "), e.Kube, e.Setting)
	}
	return fmt.Sprintf("Nomad job %s replicates with Litestream %s but the Kubernetes copy would restore with %s (%s in terraform.tfvars): the two on-bucket formats differ (0.5 writes LTX files, 0.3 generations) and the restore would find no replica and start with an empty database. Set %s = %q and retry",
		e.Job, strings.Join(e.Nomad, ", "), e.Kube, e.Setting, e.Setting, e.Nomad[0])
}

// Match checks that the Kubernetes copy's version kube can restore what the
// job replicates. A job without Litestream matches anything.
func Match(job *api.Job, kube, setting string) error {
	nv := NomadVersions(job)
	if len(nv) == 0 {
		return nil
	}
	id := ""
	if job.ID != nil {
		id = *job.ID
	}
	mm := map[string]bool{}
	for _, v := range nv {
		mm[MajorMinor(v)] = true
	}
	if len(mm) > 1 || !mm[MajorMinor(kube)] {
		return &VersionMismatchError{Job: id, Nomad: nv, Kube: kube, Setting: setting}
	}
	return nil
}

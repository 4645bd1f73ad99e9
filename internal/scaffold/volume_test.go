package scaffold

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestVolumeSize: --volume-size sets the claims' size (volume_size's
// default), the API server accepts the claims, and a size that is not a
// quantity is refused before anything is written.
func TestVolumeSize(t *testing.T) {
	jobs := fixtures(t)
	if _, err := Build(jobs["sonarr"], Options{VolumeSize: "lots"}); err == nil || !strings.Contains(err.Error(), "--volume-size") {
		t.Errorf("volume size %q: want a refusal naming --volume-size, got %v", "lots", err)
	}
	mod, err := Build(jobs["sonarr"], Options{VolumeSize: "20Gi"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mod.Files["variables.tf"], `default     = "20Gi"`) {
		t.Errorf("variables.tf: volume_size's default is not 20Gi")
	}
	if world == nil {
		t.Skip("the render needs the test world (not -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	md, err := Stage(t.TempDir(), repoRoot(t), mod)
	if err != nil {
		t.Fatal(err)
	}
	for _, backend := range []string{"local-path", "glusterfs-hostpath"} {
		ns := world.Namespace(t)
		out, err := newTofu(t).Render(ctx, md, Inputs{Namespace: ns, IngressMode: "none", ServiceMesh: "none", ClusterCIDR: "10.42.0.0/16",
			LANCIDR: "192.168.1.0/24", StorageBackend: backend, VaultMethod: "none"})
		if err != nil {
			t.Fatal(err)
		}
		objs := decode(t, out)
		want(t, find(t, objs, "PersistentVolumeClaim", "sonarr-config"), "20Gi", "spec", "resources", "requests", "storage")
		if backend == "glusterfs-hostpath" {
			want(t, find(t, objs, "PersistentVolume", "glusterfs-sonarr-config"), "20Gi", "spec", "capacity", "storage")
		}
		if err := dryRun(ctx, world.RESTConfig, objs); err != nil {
			t.Errorf("%s: server-side dry-run refused:\n%v", backend, err)
		}
	}
}

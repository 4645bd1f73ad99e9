package scaffold

import (
	"context"
	"testing"
)

func TestSmoke(t *testing.T) {
	jobs := fixtures(t)
	tf := newTofu(t)
	for _, n := range sortedNames(jobs) {
		mod, err := Build(jobs[n], Options{})
		if err != nil {
			t.Fatal(err)
		}
		md, err := Stage(t.TempDir(), repoRoot(t), mod)
		if err != nil {
			t.Fatal(err)
		}
		if err := tf.Validate(context.Background(), md); err != nil {
			t.Fatal(err)
		}
		y, err := tf.Render(context.Background(), md, Inputs{Namespace: "poc", IngressMode: "traefik-behind-external", IngressNamespace: "traefik", ServiceMesh: "cilium", ClusterCIDR: "10.42.0.0/16", LANCIDR: "192.168.1.0/24", StorageBackend: "glusterfs-nfs", VaultMethod: "external-secrets"})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s:\n%s\nunmapped: %+v", n, y, mod.Unmapped)
	}
}

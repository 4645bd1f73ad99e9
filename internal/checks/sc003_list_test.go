package checks

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestListCommandFollowsTheLitestreamVersion: 0.5 has no `snapshots`
// command (its replica is LTX files, listed by `ltx`); 0.3 lists snapshots.
// internal/litestream's round-trip test runs `ltx` on a real 0.5 replica.
func TestListCommandFollowsTheLitestreamVersion(t *testing.T) {
	for image, want := range map[string]string{
		"litestream/litestream:0.3.13":  "snapshots",
		"litestream/litestream:0.5":     "ltx",
		"litestream/litestream:v0.5.18": "ltx",
		"litestream/litestream:0.10.1":  "ltx",
		"litestream/litestream:1.0":     "ltx",
	} {
		spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "sctx/overseerr:1.34.0"}, {Name: "litestream", Image: image}}}
		if got := listCommand(spec, "litestream"); got != want {
			t.Errorf("%s: %s, want %s", image, got, want)
		}
	}
}

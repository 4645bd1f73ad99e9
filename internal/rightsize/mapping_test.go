package rightsize_test

import (
	"strings"
	"testing"

	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/rightsize"
)

func TestCPUToMHz(t *testing.T) {
	for _, c := range []struct {
		milli int64
		core  int
		want  int
	}{
		{1000, 2400, 2400}, // one core is the core's clock
		{143, 2400, 344},   // rounded up: never reserve below the target
		{25, 3800, 95},
		{0, 2400, 0},
	} {
		if got := rightsize.CPUToMHz(c.milli, c.core); got != c.want {
			t.Errorf("CPUToMHz(%d, %d) = %d, want %d", c.milli, c.core, got, c.want)
		}
	}
	if got := rightsize.BytesToMB(262144000); got != 250 {
		t.Errorf("BytesToMB(262144000) = %d, want 250", got)
	}
	if got := rightsize.BytesToMB(1<<20 + 1); got != 2 {
		t.Errorf("BytesToMB(1 MiB + 1) = %d, want 2", got)
	}
}

func TestSlowestCoreMHz(t *testing.T) {
	mhz, src := rightsize.SlowestCoreMHz([]nomadwatch.Node{
		{Name: "hestia", Cores: 8, CPUMHz: 30400},
		{Name: "heracles", Cores: 4, CPUMHz: 9600},
		{Name: "down", Cores: 0, CPUMHz: 0},
	})
	if mhz != 2400 || !strings.Contains(src, "heracles") {
		t.Errorf("got %d (%s), want 2400 from heracles", mhz, src)
	}
	if mhz, _ := rightsize.SlowestCoreMHz(nil); mhz != 0 {
		t.Errorf("no nodes: %d, want 0 (unknown)", mhz)
	}
}

func TestJobspecDiff(t *testing.T) {
	tasks := []rightsize.Task{
		// memory above memory_max: memory_max follows, Nomad refuses less.
		{Group: "g", Task: "app", Nomad: rightsize.Amount{CPUMHz: 100, MemoryMB: 64}, MemoryMaxMB: 128, Target: rightsize.Amount{CPUMHz: 100, MemoryMB: 250}},
		// already at target: no hunk.
		{Group: "g", Task: "same", Nomad: rightsize.Amount{CPUMHz: 10, MemoryMB: 10}, Target: rightsize.Amount{CPUMHz: 10, MemoryMB: 10}},
	}
	got := rightsize.JobspecDiff("svc", tasks)
	want := `--- a/modules/svc/jobspec.nomad.hcl
+++ b/modules/svc/jobspec.nomad.hcl
@@ group "g" task "app" @@
   resources {
     cpu        = 100
-    memory     = 64
-    memory_max = 128
+    memory     = 250
+    memory_max = 250
   }
`
	if got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	if d := rightsize.JobspecDiff("svc", tasks[1:]); d != "" {
		t.Errorf("nothing to change, got\n%s", d)
	}
}

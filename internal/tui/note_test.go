package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/x/ansi"
)

// huh's note reads _x_ as italics: without escaping, "cgroup_memory=1
// cgroup_enable=memory" shows as "cgroupmemory=1 cgroupenable=memory".
func TestEscapeNoteKeepsMarkupCharacters(t *testing.T) {
	for _, text := range []string{
		"add cgroup_memory=1 cgroup_enable=memory to the boot line",
		"volumes glusterfs_<service>_<type> under /storage/v",
		"a *literal* star, a `tick` and a back\\slash",
	} {
		n := huh.NewNote().Description(escapeNote(text))
		n.WithWidth(120)
		got := ansi.Strip(n.View())
		if !strings.Contains(got, text) {
			t.Errorf("note shows %q, want it to contain %q", got, text)
		}
	}
}

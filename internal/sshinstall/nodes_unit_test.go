package sshinstall

import (
	"testing"

	"migrate-tui/internal/k3sconfig"
	"migrate-tui/internal/nomadwatch"
)

func TestNodesFromJoinsNomadInventory(t *testing.T) {
	d := k3sconfig.Defaults()
	inv := []nomadwatch.Node{{Name: "Heracles", MemoryMB: 8000, ReservedMemoryMB: 500, AllocatedMemoryMB: 3000}}
	ns := NodesFrom(d, inv)
	if len(ns) != 3 || ns[1].Name != "heracles" || ns[1].NomadMemoryMB != 8000 || ns[1].NomadAllocatedMB != 3500 {
		t.Fatalf("nodes = %+v", ns)
	}
	if ns[0].NomadMemoryMB != 0 {
		t.Fatalf("hestia has no inventory but got %+v", ns[0])
	}
}

package sshinstall

import (
	"strings"

	"migrate-tui/internal/k3sconfig"
	"migrate-tui/internal/nomadrecord"
)

// NodesFrom joins the decided nodes with Nomad's inventory (matched by name,
// case-insensitively): Nomad's allocations, plus its reserved memory, count
// against what K3s may use.
func NodesFrom(d k3sconfig.Decisions, inv []nomadrecord.Node) []Node {
	byName := map[string]nomadrecord.Node{}
	for _, n := range inv {
		byName[strings.ToLower(n.Name)] = n
	}
	var out []Node
	for _, n := range d.Nodes {
		node := Node{Name: n.Name, Address: n.Address, Arch: n.Arch, Role: n.Role}
		if nn, ok := byName[strings.ToLower(n.Name)]; ok {
			node.NomadMemoryMB = nn.MemoryMB
			node.NomadAllocatedMB = nn.AllocatedMemoryMB + nn.ReservedMemoryMB
		}
		out = append(out, node)
	}
	return out
}

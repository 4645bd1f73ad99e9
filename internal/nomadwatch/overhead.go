package nomadwatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/nomad/api"
)

// NodeMemory is one node's memory as its Nomad client measures it, for the
// overhead comparison in the go/no-go evidence (SC-010).
type NodeMemory struct {
	Node          string `json:"node"`
	TotalMB       int64  `json:"totalMB"`
	HostUsedMB    int64  `json:"hostUsedMB"`    // the host's used memory (client stats)
	AllocationsMB int64  `json:"allocationsMB"` // RSS of the allocations running there (allocation stats)
	// OutsideAllocationsMB is HostUsedMB minus AllocationsMB: the Nomad and
	// Consul agents plus the operating system and anything else outside
	// Nomad, so an upper bound for the agents' overhead. The Nomad API has
	// no per-process figure for the agents themselves.
	OutsideAllocationsMB int64 `json:"outsideAllocationsMB"`
	// HostCPUMHz is the CPU the host consumed (client stats' ticks, in MHz);
	// AllocationsCPUMHz what its running allocations consumed. The rest is
	// the agents, the OS and anything else outside Nomad.
	HostCPUMHz        int64 `json:"hostCPUMHz"`
	AllocationsCPUMHz int64 `json:"allocationsCPUMHz"`
	// Skipped says why a node has no figures (down, stats refused).
	Skipped string `json:"skipped,omitempty"`
}

// NodeOverhead measures every ready node: one client-stats read per node and
// one stats read per running allocation.
func NodeOverhead(ctx context.Context, n Nomad) ([]NodeMemory, error) {
	nodes, err := n.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	allocs, err := n.Allocations(ctx)
	if err != nil {
		return nil, err
	}
	var out []NodeMemory
	for _, node := range nodes {
		m := NodeMemory{Node: node.Name}
		if node.Status != api.NodeStatusReady {
			m.Skipped = fmt.Sprintf("node is %s", node.Status)
			out = append(out, m)
			continue
		}
		hs, err := n.NodeStats(ctx, node.ID)
		if err != nil {
			if errors.Is(err, ErrPermission) || errors.Is(err, ErrUnreachable) || ctx.Err() != nil {
				return nil, err
			}
			m.Skipped = err.Error()
			out = append(out, m)
			continue
		}
		if hs.Memory != nil {
			m.TotalMB = int64(hs.Memory.Total >> 20)
			m.HostUsedMB = int64(hs.Memory.Used >> 20)
		}
		m.HostCPUMHz = int64(hs.CPUTicksConsumed)
		var rss uint64
		var ticks float64
		for _, a := range allocs {
			if a.NodeID != node.ID || a.ClientStatus != api.AllocClientStatusRunning {
				continue
			}
			u, err := n.AllocStats(ctx, a.ID)
			if err != nil {
				if errors.Is(err, ErrPermission) || errors.Is(err, ErrUnreachable) || ctx.Err() != nil {
					return nil, err
				}
				continue // the allocation stopped between the two reads
			}
			if u.ResourceUsage != nil && u.ResourceUsage.MemoryStats != nil {
				rss += u.ResourceUsage.MemoryStats.RSS
			}
			if u.ResourceUsage != nil && u.ResourceUsage.CpuStats != nil {
				ticks += u.ResourceUsage.CpuStats.TotalTicks
			}
		}
		m.AllocationsMB = int64(rss >> 20)
		m.AllocationsCPUMHz = int64(ticks)
		m.OutsideAllocationsMB = m.HostUsedMB - m.AllocationsMB
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b NodeMemory) int { return cmp.Compare(a.Node, b.Node) })
	return out, nil
}

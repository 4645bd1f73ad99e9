package nomadwatch

import (
	"cmp"
	"context"
	"slices"
	"strconv"

	"github.com/hashicorp/nomad/api"
)

// Inventory reads every node with its architecture, memory and what Nomad
// has allocated there, sorted by name. Requests: one node list, one
// allocation list and one read per node.
func Inventory(ctx context.Context, n Nomad) ([]Node, error) {
	stubs, err := n.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	allocs, err := n.Allocations(ctx)
	if err != nil {
		return nil, err
	}
	byNode := map[string][]*api.AllocationListStub{}
	for _, a := range allocs {
		if a.DesiredStatus == api.AllocDesiredStatusRun &&
			(a.ClientStatus == api.AllocClientStatusRunning || a.ClientStatus == api.AllocClientStatusPending) {
			byNode[a.NodeID] = append(byNode[a.NodeID], a)
		}
	}
	out := make([]Node, 0, len(stubs))
	for _, stub := range stubs {
		full, err := n.Node(ctx, stub.ID)
		if err != nil {
			return nil, err
		}
		node := Node{
			ID:         full.ID,
			Name:       full.Name,
			Address:    stub.Address,
			Datacenter: full.Datacenter,
			Arch:       full.Attributes["cpu.arch"],
			OS:         full.Attributes["os.name"],
			Kernel:     full.Attributes["kernel.name"],
			Status:     full.Status,
			Eligible:   full.SchedulingEligibility == api.NodeSchedulingEligible,
			Drain:      full.Drain,
		}
		if node.Address == "" {
			node.Address = full.Attributes["unique.network.ip-address"]
		}
		if r := full.NodeResources; r != nil {
			node.Cores = int(r.Cpu.TotalCpuCores)
			node.CPUMHz = r.Cpu.CpuShares
			node.MemoryMB = r.Memory.MemoryMB
		}
		if node.MemoryMB == 0 {
			if b, err := strconv.ParseInt(full.Attributes["memory.totalbytes"], 10, 64); err == nil {
				node.MemoryMB = b / (1024 * 1024)
			}
		}
		if node.Cores == 0 {
			node.Cores, _ = strconv.Atoi(full.Attributes["cpu.numcores"])
		}
		if r := full.ReservedResources; r != nil {
			node.ReservedMemoryMB = int64(r.Memory.MemoryMB)
		}
		for _, a := range byNode[full.ID] {
			node.Allocations++
			cpu, mem, memMax := allocated(a)
			node.AllocatedCPUMHz += cpu
			node.AllocatedMemoryMB += mem
			node.AllocatedMemoryMaxMB += memMax
		}
		out = append(out, node)
	}
	slices.SortFunc(out, func(a, b Node) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// allocated sums an allocation's task resources, leaving out prestart tasks
// that already finished (a Litestream restore): Nomad frees those once the
// main tasks start.
func allocated(a *api.AllocationListStub) (cpu, mem, memMax int64) {
	if a.AllocatedResources == nil {
		return 0, 0, 0
	}
	for name, r := range a.AllocatedResources.Tasks {
		if ts := a.TaskStates[name]; ts != nil && ts.State == "dead" && !ts.Failed && a.ClientStatus == api.AllocClientStatusRunning {
			continue
		}
		cpu += r.Cpu.CpuShares
		mem += r.Memory.MemoryMB
		memMax += max(r.Memory.MemoryMaxMB, r.Memory.MemoryMB)
	}
	return cpu, mem, memMax
}

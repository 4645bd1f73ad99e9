package nomadrecord

import "fmt"

// Node is one Nomad client as the wizard's preflight shows it.
type Node struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Address    string `json:"address"`
	Datacenter string `json:"datacenter"`
	Arch       string `json:"arch"`   // cpu.arch: amd64, arm64
	OS         string `json:"os"`     // os.name
	Kernel     string `json:"kernel"` // kernel.name
	Status     string `json:"status"` // ready, down, initializing, disconnected
	Eligible   bool   `json:"eligible"`
	Drain      bool   `json:"drain"`

	Cores            int   `json:"cores"`
	CPUMHz           int64 `json:"cpuMHz"`
	MemoryMB         int64 `json:"memoryMB"`
	ReservedMemoryMB int64 `json:"reservedMemoryMB"`

	// What Nomad has allocated to the allocations that should be running
	// there (desired run, client running or pending).
	Allocations          int   `json:"allocations"`
	AllocatedCPUMHz      int64 `json:"allocatedCPUMHz"`
	AllocatedMemoryMB    int64 `json:"allocatedMemoryMB"`
	AllocatedMemoryMaxMB int64 `json:"allocatedMemoryMaxMB"` // with memory oversubscription (memory_max)
}

// FreeMemoryMB is what is left for something beside Nomad's allocations:
// total minus Nomad's reserved memory minus allocated.
func (n Node) FreeMemoryMB() int64 { return n.MemoryMB - n.ReservedMemoryMB - n.AllocatedMemoryMB }

// String is a one-line summary for logs and plain output.
func (n Node) String() string {
	allocs := "allocations"
	if n.Allocations == 1 {
		allocs = "allocation"
	}
	return fmt.Sprintf("%s (%s, %s, %s): %d MB memory, %d MB allocated to %d %s, %d MB free",
		n.Name, n.Arch, n.Address, n.Status, n.MemoryMB, n.AllocatedMemoryMB, n.Allocations, allocs, n.FreeMemoryMB())
}

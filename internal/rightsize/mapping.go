package rightsize

import (
	"context"
	"fmt"

	"migrate-tui/internal/nomadwatch"
)

// CPUToMHz converts a Kubernetes CPU amount to Nomad's cpu MHz. Nomad's cpu
// is a share of the node's cores × clock (its cpu.totalcompute), so one core
// (1000m) is worth the node's per-core MHz, not 1000 MHz. Rounded up: a
// reservation below the target would throttle.
func CPUToMHz(milli int64, coreMHz int) int {
	if milli <= 0 {
		return 0
	}
	return int((milli*int64(coreMHz) + 999) / 1000)
}

// BytesToMB converts a memory amount to Nomad's memory MB (mebibytes, as
// Nomad's own fingerprint counts them), rounded up.
func BytesToMB(b int64) int {
	if b <= 0 {
		return 0
	}
	return int((b + (1<<20 - 1)) >> 20)
}

// SlowestCoreMHz is the per-core clock of the slowest Nomad node (total MHz
// over cores). The slowest, because Nomad may place the job on any node: a
// reservation sized on the fastest core would under-reserve on the others.
// The source names the node, for the evidence.
func SlowestCoreMHz(nodes []nomadwatch.Node) (mhz int, source string) {
	for _, n := range nodes {
		if n.Cores <= 0 || n.CPUMHz <= 0 {
			continue
		}
		per := int(n.CPUMHz / int64(n.Cores))
		if mhz == 0 || per < mhz {
			mhz, source = per, fmt.Sprintf("Nomad node %s: %d MHz over %d cores", n.Name, n.CPUMHz, n.Cores)
		}
	}
	return mhz, source
}

// CoreMHzFromNomad reads Nomad's nodes and returns SlowestCoreMHz.
func CoreMHzFromNomad(ctx context.Context, n nomadwatch.Nomad) (int, string, error) {
	nodes, err := nomadwatch.Inventory(ctx, n)
	if err != nil {
		return 0, "", fmt.Errorf("reading Nomad's nodes for the MHz of one core: %w; give the token node:read, or pass the MHz of one core (--core-mhz)", err)
	}
	mhz, src := SlowestCoreMHz(nodes)
	if mhz == 0 {
		return 0, "", fmt.Errorf("no Nomad node reports its cores and cpu MHz (%d nodes): pass the MHz of one core (--core-mhz)", len(nodes))
	}
	return mhz, src, nil
}

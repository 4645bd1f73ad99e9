package checks

import (
	"context"

	corev1 "k8s.io/api/core/v1"
)

// KWOKNodeAnnotation marks a node KWOK simulates: KWOK manages the nodes
// that carry it (--manage-nodes-with-annotation-selector=
// kwok.x-k8s.io/node=fake, kwok.sigs.k8s.io/docs/user/kwok-manage-nodes-and-pods),
// and the sandbox and the test world create their nodes with it. Such a
// node runs no process: no DaemonSet data plane, no controller pod,
// nothing to exec into.
const KWOKNodeAnnotation = "kwok.x-k8s.io/node"

// IsSimulated reports whether every node is KWOK's (and there is at least
// one). One real node is enough to expect real behaviour.
func IsSimulated(nodes []corev1.Node) bool {
	for _, n := range nodes {
		if _, ok := n.Annotations[KWOKNodeAnnotation]; !ok {
			return false
		}
	}
	return len(nodes) > 0
}

// simulated says whether what a check needs to run cannot run here: set by
// the caller (Deps.TLS.SimulatedBackends), else seen on the nodes. A list
// error counts as a real cluster, so the check fails rather than excuses.
func (d *Deps) simulated(ctx context.Context) bool {
	if d.TLS.SimulatedBackends {
		return true
	}
	if d.Kube == nil {
		return false
	}
	nodes, err := d.Snapshot().Nodes(ctx)
	return err == nil && IsSimulated(nodes)
}

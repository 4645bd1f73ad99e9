package checks

import (
	"context"
	"errors"
)

// MeasureOverhead is SC-010's per-node measurement (metrics API beside
// Nomad's client stats) on a fresh snapshot, for the go/no-go screen to show
// as figures rather than as SC-010's sentence.
func MeasureOverhead(ctx context.Context, d *Deps) ([]NodeOverhead, error) {
	ov, r := measureOverhead(ctx, d.withSnapshot(NewSnapshot(d.Kube, d.Dynamic, d.Decisions.Namespace())))
	if r != nil {
		return nil, errors.New(r.Evidence + ". " + r.Hint)
	}
	return ov, nil
}

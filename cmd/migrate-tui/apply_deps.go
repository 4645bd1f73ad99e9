package main

import (
	"context"

	"migrate-tui/internal/stages"
)

// defaultStageRunner is the real stage runner for the repository.
func defaultStageRunner(ctx context.Context, o *applyOptions) (*stages.Runner, error) {
	return stages.ForRepo(ctx, o.dir, o.TFBinary)
}

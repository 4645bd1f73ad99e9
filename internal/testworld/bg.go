package testworld

import (
	"context"
	"sync"
)

// bgLoops are the world's in-process parts (the CNI watcher, the DNS
// stand-ins, the coredns-custom projection): they run until Stop.
type bgLoops struct {
	mu      sync.Mutex
	ctx     context.Context
	cancel  context.CancelFunc
	closers []func()
}

// background returns a context that ends when the world stops.
func (w *World) background() context.Context {
	b := &w.bg
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx == nil {
		b.ctx, b.cancel = context.WithCancel(context.Background())
	}
	return b.ctx
}

// onStop runs f when the world stops, before its processes are stopped.
func (w *World) onStop(f func()) {
	b := &w.bg
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closers = append(b.closers, f)
}

func (b *bgLoops) stop() {
	b.mu.Lock()
	cancel, closers := b.cancel, b.closers
	b.closers = nil
	b.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
}

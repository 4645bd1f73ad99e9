package state

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Many contenders take the lock over and over; some "die" holding it (the
// lock is left behind as a stale lock for the next one to take over). At no
// moment may two contenders hold it: each one, while holding, creates a
// marker file with O_EXCL, which fails if another holder is inside too.
// Before the flock(2) lock, a contender that had read a stale holder could
// remove the fresh lock another contender had just taken over, and both
// proceeded.
func TestLockNeverHeldTwiceUnderStaleTakeover(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, DirName), 0o700); err != nil {
		t.Fatal(err)
	}
	// Start from a stale lock of a dead process on this host.
	host, _ := os.Hostname()
	stale, _ := json.Marshal(Holder{PID: 1 << 30, Hostname: host, StartedAt: time.Now(), Command: "dead"})
	if err := os.WriteFile(LockPath(dir), stale, 0o600); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "inside")
	var nextPID atomic.Int64
	nextPID.Store(1 << 20)
	var double, taken, takeovers atomic.Int64
	const workers, rounds = 8, 300
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				me := Holder{PID: int(nextPID.Add(1)), Hostname: host, StartedAt: time.Now().UTC(), Command: "contender"}
				l, err := acquire(dir, me)
				if err != nil {
					continue
				}
				taken.Add(1)
				if l.Replaced != nil {
					takeovers.Add(1)
				}
				f, err := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
				if err != nil {
					double.Add(1)
				} else {
					f.Close()
					os.Remove(marker)
				}
				if r%3 == 0 {
					l.abandon() // dies holding it: the next one takes it over
				} else if err := l.Release(); err != nil {
					t.Errorf("Release: %v", err)
				}
			}
		}(w)
	}
	wg.Wait()
	if double.Load() > 0 {
		t.Fatalf("the lock was held by two contenders at once %d times (of %d acquisitions)", double.Load(), taken.Load())
	}
	if taken.Load() == 0 || takeovers.Load() == 0 {
		t.Fatalf("the test did not exercise anything: %d acquisitions, %d stale takeovers", taken.Load(), takeovers.Load())
	}
	t.Logf("%d acquisitions, %d stale takeovers, never two holders", taken.Load(), takeovers.Load())
}

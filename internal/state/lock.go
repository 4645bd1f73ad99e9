package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockFileName is the lock inside DirName.
const LockFileName = "lock"

// Holder describes the process holding a lock.
type Holder struct {
	PID       int       `json:"pid"`
	Hostname  string    `json:"hostname"`
	StartedAt time.Time `json:"started_at"`
	Command   string    `json:"command"`
}

func (h Holder) String() string {
	return fmt.Sprintf("PID %d on %s (%s, started %s)", h.PID, h.Hostname, h.Command, h.StartedAt.Local().Format(time.RFC3339))
}

// Lock is a held lock; Release it when done.
type Lock struct {
	path string
	me   Holder
	// Replaced is the stale holder this lock took over from, if any:
	// callers show StaleNotice to the operator.
	Replaced *Holder
}

// LockedError: another migrate-tui process holds the lock.
type LockedError struct {
	Path   string
	Holder Holder
	// Unknown is set when the holder is on another host, so whether it is
	// still running cannot be checked from here.
	Unknown bool
}

func (e *LockedError) Error() string {
	if e.Unknown {
		return fmt.Sprintf("another migrate-tui holds %s: %s. It runs on another host, so migrate-tui cannot tell whether it is still alive; if it is not, delete %s and try again",
			e.Path, e.Holder, e.Path)
	}
	return fmt.Sprintf("another migrate-tui is working on this repository: %s holds %s. Wait for it to finish (or quit it); two processes must not change the state and terraform.tfvars at once",
		e.Holder, e.Path)
}

// UnreadableLockError: the lock file exists but says nothing usable.
type UnreadableLockError struct {
	Path string
	Err  error
}

func (e *UnreadableLockError) Error() string {
	return fmt.Sprintf("lock file %s cannot be read (%v). If no migrate-tui is running, delete it and try again", e.Path, e.Err)
}

// StaleNotice explains a lock taken over from a process that had died.
func (l *Lock) StaleNotice() string {
	if l.Replaced == nil {
		return ""
	}
	return fmt.Sprintf("A previous migrate-tui (%s) did not exit cleanly and left its lock behind; that process no longer exists, so the lock was taken over. The state file is intact: it is only ever replaced whole.", *l.Replaced)
}

// LockPath returns the lock file of a repository.
func LockPath(repoDir string) string { return filepath.Join(repoDir, DirName, LockFileName) }

// Acquire takes the repository's lock for this process. A lock left by a
// dead process on this host (stale) is taken over and reported in
// Lock.Replaced; a live holder, or one on another host, gives *LockedError.
func Acquire(repoDir, command string) (*Lock, error) {
	host, _ := os.Hostname()
	me := Holder{PID: os.Getpid(), Hostname: host, StartedAt: time.Now().UTC(), Command: command}
	return acquire(repoDir, me, processAlive)
}

func acquire(repoDir string, me Holder, alive func(int) bool) (*Lock, error) {
	dir := filepath.Join(repoDir, DirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	path := LockPath(repoDir)
	data, _ := json.Marshal(me)
	var replaced *Holder
	for attempt := 0; attempt < 3; attempt++ {
		// Write the whole lock to a temp file, then link it into place:
		// link fails if the lock exists, and the lock is never half written.
		tmp, err := os.CreateTemp(dir, ".lock.tmp-*")
		if err != nil {
			return nil, err
		}
		_, werr := tmp.Write(data)
		if werr == nil {
			werr = tmp.Sync()
		}
		tmp.Close()
		if werr != nil {
			os.Remove(tmp.Name())
			return nil, werr
		}
		err = os.Link(tmp.Name(), path)
		os.Remove(tmp.Name())
		if err == nil {
			return &Lock{path: path, me: me, Replaced: replaced}, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("creating lock %s: %w", path, err)
		}
		h, rerr := readHolder(path)
		if errors.Is(rerr, os.ErrNotExist) {
			continue // released meanwhile
		}
		if rerr != nil {
			return nil, &UnreadableLockError{Path: path, Err: rerr}
		}
		if h.Hostname != me.Hostname {
			return nil, &LockedError{Path: path, Holder: h, Unknown: true}
		}
		if h.PID == me.PID || alive(h.PID) {
			return nil, &LockedError{Path: path, Holder: h}
		}
		// Stale: remove it only if it is still the same stale lock.
		if cur, err := readHolder(path); err == nil && cur == h {
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("removing stale lock %s: %w", path, err)
			}
			hh := h
			replaced = &hh
		}
	}
	return nil, fmt.Errorf("lock %s keeps changing hands; is another migrate-tui starting right now?", path)
}

func readHolder(path string) (Holder, error) {
	var h Holder
	data, err := os.ReadFile(path)
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return h, fmt.Errorf("not JSON: %w", err)
	}
	if h.PID <= 0 {
		return h, fmt.Errorf("no PID in it")
	}
	return h, nil
}

// ReadLock returns the current holder of a repository's lock, if any.
func ReadLock(repoDir string) (*Holder, error) {
	h, err := readHolder(LockPath(repoDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// Release removes the lock if this process still holds it.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	h, err := readHolder(l.path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	if h.PID != l.me.PID || h.Hostname != l.me.Hostname || !h.StartedAt.Equal(l.me.StartedAt) {
		return fmt.Errorf("lock %s is now held by %s; left it alone", l.path, h)
	}
	return os.Remove(l.path)
}

// processAlive: signal 0 checks existence; EPERM means it exists but
// belongs to someone else.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

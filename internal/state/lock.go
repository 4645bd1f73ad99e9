package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
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
	f    *os.File // holds the flock while open
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

// Acquire takes the repository's lock for this process. The lock is an
// flock(2) on the lock file, held for as long as this process keeps the file
// open: the kernel drops it when the process dies, so "is the holder still
// alive?" is answered by the kernel, atomically, and two processes can never
// both take over one stale lock. The file's content (the holder) only
// serves messages. A holder left by a dead process is reported in
// Lock.Replaced; a live holder gives *LockedError; a holder recorded by
// another host gives *LockedError with Unknown (its flock is not visible
// here on every filesystem).
func Acquire(repoDir, command string) (*Lock, error) {
	host, _ := os.Hostname()
	me := Holder{PID: os.Getpid(), Hostname: host, StartedAt: time.Now().UTC(), Command: command}
	return acquire(repoDir, me)
}

func acquire(repoDir string, me Holder) (*Lock, error) {
	dir := filepath.Join(repoDir, DirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	path := LockPath(repoDir)
	data, _ := json.Marshal(me)
	for attempt := 0; attempt < 10; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("opening lock %s: %w", path, err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			if !errors.Is(err, unix.EWOULDBLOCK) {
				return nil, fmt.Errorf("locking %s: %w", path, err)
			}
			h, rerr := readHolder(path)
			if rerr != nil {
				// Held, but the holder has not written itself yet (or the
				// file is garbled while someone holds it).
				h = Holder{Command: "unknown (its lock file is being written)"}
			}
			return nil, &LockedError{Path: path, Holder: h}
		}
		// A holder that released unlinks the file after we opened it: our
		// flock is then on a file nobody else will see. Start again.
		if !samePath(f, path) {
			f.Close()
			continue
		}
		var replaced *Holder
		if old, err := readAll(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("reading lock %s: %w", path, err)
		} else if len(bytes.TrimSpace(old)) > 0 {
			h, herr := parseHolder(old)
			if herr != nil {
				f.Close()
				return nil, &UnreadableLockError{Path: path, Err: herr}
			}
			if h.Hostname != me.Hostname {
				f.Close()
				return nil, &LockedError{Path: path, Holder: h, Unknown: true}
			}
			// We hold the flock, so the recorded holder is gone.
			hh := h
			replaced = &hh
		}
		if err := rewrite(f, data); err != nil {
			f.Close()
			return nil, fmt.Errorf("writing lock %s: %w", path, err)
		}
		return &Lock{path: path, me: me, f: f, Replaced: replaced}, nil
	}
	return nil, fmt.Errorf("lock %s keeps changing hands; is another migrate-tui starting right now?", path)
}

// samePath: the open file is still the one path names.
func samePath(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

func readAll(f *os.File) ([]byte, error) {
	if _, err := f.Seek(0, 0); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(f, 1<<16))
}

func rewrite(f *os.File, data []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		return err
	}
	return f.Sync()
}

func readHolder(path string) (Holder, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Holder{}, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Holder{}, os.ErrNotExist // released: the file is kept empty or removed
	}
	return parseHolder(data)
}

func parseHolder(data []byte) (Holder, error) {
	var h Holder
	if err := json.Unmarshal(data, &h); err != nil {
		return h, fmt.Errorf("not JSON: %w", err)
	}
	if h.PID <= 0 {
		return h, fmt.Errorf("no PID in it")
	}
	return h, nil
}

// ReadLock returns the current holder of a repository's lock, if any: a
// holder whose flock is gone (it died) is not a holder.
func ReadLock(repoDir string) (*Holder, error) {
	path := LockPath(repoDir)
	h, err := readHolder(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if f, err := os.Open(path); err == nil {
		defer f.Close()
		if unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB) == nil && h.Hostname == hostname() {
			return nil, nil // nobody holds it: left by a process that died
		}
	}
	return &h, nil
}

func hostname() string { h, _ := os.Hostname(); return h }

// Release removes the lock if this process still holds it. The holder is
// cleared and the file removed while the flock is still held; anyone who
// opened the old file meanwhile notices it was unlinked (samePath) and
// starts again on a fresh one.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	defer func() { l.f.Close(); l.f = nil }()
	data, err := readAll(l.f)
	if err != nil {
		return err
	}
	h, err := parseHolder(data)
	if err != nil || h.PID != l.me.PID || h.Hostname != l.me.Hostname || !h.StartedAt.Equal(l.me.StartedAt) {
		return fmt.Errorf("lock %s was rewritten by someone else (%s); left it alone", l.path, bytes.TrimSpace(data))
	}
	if !samePath(l.f, l.path) {
		return nil // already removed by hand
	}
	if err := os.Remove(l.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// abandon lets go of the flock as a killed process would: the holder stays
// in the file. Tests use it.
func (l *Lock) abandon() {
	l.f.Close()
	l.f = nil
}

package tfrunner

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// lockSummary is the diagnostic summary Terraform and OpenTofu give when the
// state lock is held by someone else.
const lockSummary = "Error acquiring the state lock"

// LockInfo is what the backend recorded about the lock's holder.
type LockInfo struct {
	ID        string    `json:"ID"`
	Operation string    `json:"Operation"`
	Who       string    `json:"Who"`
	Version   string    `json:"Version"`
	Created   time.Time `json:"Created"`
	Path      string    `json:"Path"`
}

// Holder is what could be found out about whoever holds the lock.
type Holder struct {
	// PID of the process holding a local state file's lock (0 if none or unknown).
	PID int `json:"pid,omitempty"`
	// Command is that process's command line, when readable.
	Command string `json:"command,omitempty"`
	// Gone is true only when the holder is provably no longer running.
	Gone bool `json:"gone"`
	// Why explains how Gone was decided.
	Why string `json:"why"`
}

// LockError says the state lock is held; it carries what is known about the
// holder and whether a force-unlock may be offered.
type LockError struct {
	Info   LockInfo
	Holder Holder
	Detail string // Terraform's own diagnostic text
}

func (e *LockError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the Terraform state is locked")
	if e.Info.Operation != "" || e.Info.Who != "" {
		fmt.Fprintf(&b, " by %s (%s", nonEmpty(e.Info.Who, "someone"), nonEmpty(e.Info.Operation, "an operation"))
		if !e.Info.Created.IsZero() {
			fmt.Fprintf(&b, " since %s", e.Info.Created.Local().Format(time.DateTime))
		}
		b.WriteString(")")
	}
	if e.Info.ID != "" {
		fmt.Fprintf(&b, ", lock ID %s", e.Info.ID)
	}
	b.WriteString(". ")
	b.WriteString(e.Holder.Why)
	if e.Holder.Gone {
		b.WriteString(" The holder is gone, so it is safe to force-unlock after you confirm.")
	} else {
		b.WriteString(" Wait for it to finish (or stop it) and run again; force-unlock is not offered while the holder may still be running.")
	}
	return b.String()
}

// Stale says whether force-unlock may be offered.
func (e *LockError) Stale() bool { return e.Holder.Gone && e.Info.ID != "" }

func nonEmpty(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// lockErrorFrom builds a LockError from the lock diagnostic, reading the local
// backend's lock file and the kernel's record of the file lock when the state
// is local.
func lockErrorFrom(d Diagnostic, workDir, statePath string) *LockError {
	le := &LockError{Detail: d.Detail}
	if statePath == "" {
		statePath = filepath.Join(workDir, "terraform.tfstate")
	}
	local := false
	if b, err := os.ReadFile(lockInfoPath(statePath)); err == nil && json.Unmarshal(b, &le.Info) == nil {
		local = true
	} else {
		le.Info = parseLockDetail(d.Detail)
	}
	if local {
		pid, err := lockHolderPID(statePath)
		switch {
		case err != nil:
			le.Holder.Why = fmt.Sprintf("Could not ask the kernel who holds the lock on %s (%v).", statePath, err)
		case pid > 0:
			le.Holder.PID = pid
			le.Holder.Command = procCmdline(pid)
			le.Holder.Why = fmt.Sprintf("Process %d (%s) on this machine holds the lock on %s and is still running.", pid, nonEmpty(le.Holder.Command, "command unknown"), statePath)
		default:
			le.Holder.Gone = true
			le.Holder.Why = fmt.Sprintf("No process holds the lock on %s any more (the kernel reports no holder); the lock file %s is left over.", statePath, lockInfoPath(statePath))
		}
		return le
	}
	host, _ := os.Hostname()
	_, who, _ := strings.Cut(le.Info.Who, "@")
	switch {
	case who == "" || host == "" || who != host:
		le.Holder.Why = fmt.Sprintf("The lock was taken on host %q, not this one (%q); migrate-tui cannot prove that process is gone.", who, host)
	default:
		if pids := runningTerraform(workDir); len(pids) > 0 {
			le.Holder.PID = pids[0]
			le.Holder.Command = procCmdline(pids[0])
			le.Holder.Why = fmt.Sprintf("The lock was taken on this host and process %d (%s) is still running in %s.", pids[0], le.Holder.Command, workDir)
		} else {
			le.Holder.Gone = true
			le.Holder.Why = fmt.Sprintf("The lock was taken on this host and no tofu or terraform process runs in %s any more.", workDir)
		}
	}
	return le
}

// lockInfoPath is where the local backend records lock info: .<state>.lock.info.
func lockInfoPath(statePath string) string {
	return filepath.Join(filepath.Dir(statePath), "."+filepath.Base(statePath)+".lock.info")
}

// lockHolderPID asks the kernel (F_GETLK) which process holds the POSIX lock
// the local backend takes on the state file; 0 means nobody.
func lockHolderPID(statePath string) (int, error) {
	f, err := os.OpenFile(statePath, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
		return 0, err
	}
	if lk.Type == syscall.F_UNLCK {
		return 0, nil
	}
	return int(lk.Pid), nil
}

func procCmdline(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// runningTerraform lists processes named tofu or terraform whose working
// directory is dir.
func runningTerraform(dir string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil {
			continue
		}
		if b := filepath.Base(exe); !strings.Contains(b, "tofu") && !strings.Contains(b, "terraform") {
			continue
		}
		if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil && cwd == dir {
			pids = append(pids, pid)
		}
	}
	return pids
}

// parseLockDetail reads the "Lock Info:" block of the diagnostic, which is the
// only place remote backends report the holder.
func parseLockDetail(detail string) LockInfo {
	var li LockInfo
	sc := bufio.NewScanner(strings.NewReader(detail))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "ID":
			li.ID = v
		case "Path":
			li.Path = v
		case "Operation":
			li.Operation = v
		case "Who":
			li.Who = v
		case "Version":
			li.Version = v
		case "Created":
			li.Created, _ = time.Parse("2006-01-02 15:04:05.999999999 -0700 MST", v)
		}
	}
	return li
}

package state

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/steps"
)

// The test binary doubles as a child process: a state writer that saves in
// a loop (to be SIGKILLed mid-write) and a lock holder.
func TestMain(m *testing.M) {
	switch os.Getenv("STATE_TEST_CHILD") {
	case "writer":
		writerChild(os.Getenv("STATE_TEST_DIR"))
		return
	case "locker":
		lockerChild(os.Getenv("STATE_TEST_DIR"))
		return
	}
	os.Exit(m.Run())
}

func writerChild(dir string) {
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	st := New(now)
	pad := strings.Repeat("evidence line that makes each write large enough to be interrupted; ", 40)
	ev := make([]string, 0, 200)
	for j := 0; j < 200; j++ {
		ev = append(ev, fmt.Sprintf("%d %s", j, pad))
	}
	// Two encodings of different sizes, so a torn write shows; the loop
	// spends its time in the same write path Save uses.
	var enc [2][]byte
	for i := range enc {
		st.Finish("preflight.tools", steps.Done, ev[:100+100*i], "", now.Add(time.Duration(i)*time.Second))
		st.UpdatedAt = now
		enc[i], _ = st.Encode()
	}
	for i := 0; ; i++ {
		// The parent kills on this line, so the kill lands inside the write.
		fmt.Println("saving", i)
		if err := writeState(dir, enc[i%2]); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
	}
}

func lockerChild(dir string) {
	l, err := Acquire(dir, "locker child")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	_ = l
	fmt.Println("locked")
	for { // hold it until killed
		time.Sleep(time.Hour)
	}
}

func startChild(t *testing.T, kind, dir string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STATE_TEST_CHILD="+kind, "STATE_TEST_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, bufio.NewScanner(out)
}

func sample(now time.Time) *State {
	st := New(now)
	st.Start("preflight.tools", now)
	st.Finish("preflight.tools", steps.Done, []string{"tofu: /usr/bin/tofu", "ssh: /usr/bin/ssh"}, "", now.Add(time.Second))
	st.Finish("preflight.nomad", steps.Failed, nil, "Nomad at http://127.0.0.1:4646 refused the token", now)
	st.SetDecision("service_mesh", "linkerd", "wizard", now)
	st.SetDecision("nodes", decisions.Get("nodes").Default, "decide --set", now)
	st.SetDecision("traefik_https_node_port", int64(32443), "decide --defaults", now)
	st.Preflight = &Preflight{Tools: map[string]string{"tofu": "/usr/bin/tofu"}, NomadAddr: "http://127.0.0.1:4646",
		Inventory: []nomadwatch.Node{{Name: "hestia", Arch: "amd64", MemoryMB: 32000, AllocatedMemoryMB: 9000}},
		Baseline: &nomadwatch.Baseline{Version: nomadwatch.BaselineVersion, TakenAt: now, Address: "http://127.0.0.1:4646",
			Jobs: []nomadwatch.JobState{{ID: "whoami", Namespace: "default", Type: "service", Status: "running"}}}}
	st.Stages = map[string]json.RawMessage{"cluster": json.RawMessage(`{"service_mesh":"linkerd"}`)}
	return st
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	if st, err := Load(dir); st != nil || err != nil {
		t.Fatalf("Load of a fresh repository = %v, %v; want nothing", st, err)
	}
	want := sample(now)
	if err := Save(dir, want, now); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(want)
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Fatalf("round trip differs:\n%s\n%s", a, b)
	}
	ans, err := got.Answers()
	if err != nil || ans.Str("service_mesh") != "linkerd" || ans.Int("traefik_https_node_port") != 32443 || len(ans.Nodes()) != 3 {
		t.Fatalf("answers = %v, %v", ans, err)
	}
	if b, err := got.Baseline(); err != nil || len(b.Jobs) != 1 || b.Jobs[0].ID != "whoami" {
		t.Errorf("Baseline() = %+v, %v", b, err)
	}
	if _, err := New(now).Baseline(); err == nil || !strings.Contains(err.Error(), "preflight") {
		t.Errorf("Baseline() of a new state = %v", err)
	}
	if got.InstalledMesh() != "" {
		t.Errorf("InstalledMesh before the cluster stage = %q", got.InstalledMesh())
	}
	got.Finish("stage.cluster", steps.Done, nil, "", now)
	if got.InstalledMesh() != "linkerd" {
		t.Errorf("InstalledMesh = %q, want the cluster stage's record", got.InstalledMesh())
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, DirName)); len(ents) != 1 {
		t.Errorf("temp files left behind: %v", ents)
	}
}

// A writer SIGKILLed at arbitrary points leaves a valid file every time.
func TestKilledWhileWriting(t *testing.T) {
	for round := 0; round < 10; round++ {
		dir := t.TempDir()
		cmd, out := startChild(t, "writer", dir)
		target := 2 + round
		for out.Scan() {
			var n int
			if _, err := fmt.Sscanf(out.Text(), "saving %d", &n); err != nil {
				t.Fatalf("child: %s", out.Text())
			}
			if n >= target {
				break
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		st, err := Load(dir)
		if err != nil || st == nil {
			t.Fatalf("round %d: after SIGKILL: %v", round, err)
		}
		if r := st.Record("preflight.tools"); r.Status != steps.Done || (len(r.Evidence) != 100 && len(r.Evidence) != 200) {
			t.Fatalf("round %d: record = %s with %d evidence lines", round, r.Status, len(r.Evidence))
		}
	}
}

func TestCorruptAndFutureFiles(t *testing.T) {
	good, _ := sample(time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)).Encode()
	cases := map[string]struct {
		data   string
		future bool
		want   string
	}{
		"truncated":         {data: string(good[:len(good)/2]), want: "ends in the middle"},
		"garbage":           {data: "hello\n", want: "not valid JSON at line 1"},
		"empty":             {data: "", want: "ends in the middle"},
		"no schema":         {data: `{"steps":{}}`, want: "no schema version"},
		"schema zero":       {data: `{"schema":0}`, want: "schema version 0"},
		"bad status":        {data: `{"schema":1,"steps":{"preflight.tools":{"status":"finished"}}}`, want: `status "finished"`},
		"unknown decision":  {data: `{"schema":1,"decisions":{"mesh":{"value":"x"}}}`, want: `"mesh" is not in the catalogue`},
		"invalid value":     {data: `{"schema":1,"decisions":{"service_mesh":{"value":"consul"}}}`, want: "not one of"},
		"wrong type":        {data: `{"schema":1,"steps":[]}`, want: "wrong type"},
		"unknown field":     {data: `{"schema":1,"colour":"blue"}`, want: "colour"},
		"trailing data":     {data: `{"schema":1} {}`, want: "not valid JSON at line 1, column 15"},
		"bad cutover state": {data: `{"schema":1,"cutovers":{"whoami":{"service":"whoami","nomad_job":"whoami","phase":"on-nomad","state":"half-way"}}}`, want: `state "half-way"`},
		"future version":    {data: `{"schema":7,"whatever":"new"}`, future: true, want: "schema version 7"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, DirName), 0o700)
			os.WriteFile(Path(dir), []byte(tc.data), 0o600)
			_, err := Load(dir)
			if tc.future {
				var ve *VersionError
				if !errors.As(err, &ve) || ve.Found != 7 {
					t.Fatalf("Load = %v, want a VersionError", err)
				}
				if !strings.Contains(err.Error(), "Upgrade migrate-tui") {
					t.Errorf("message %q does not say what to do", err)
				}
			} else {
				var ce *CorruptError
				if !errors.As(err, &ce) {
					t.Fatalf("Load = %v, want a CorruptError", err)
				}
				if !strings.Contains(err.Error(), "move it aside") {
					t.Errorf("message %q does not say what to do", err)
				}
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("message %q lacks %q", err, tc.want)
			}
			if _, err := LoadOrNew(dir, time.Now()); err == nil {
				t.Error("LoadOrNew silently replaced a bad file")
			}
			if data, _ := os.ReadFile(Path(dir)); string(data) != tc.data {
				t.Error("the file was changed")
			}
		})
	}
}

func TestLockContentionAndStaleLock(t *testing.T) {
	dir := t.TempDir()
	child, out := startChild(t, "locker", dir)
	if !out.Scan() || out.Text() != "locked" {
		t.Fatalf("child: %q", out.Text())
	}
	_, err := Acquire(dir, "test")
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.PID != child.Process.Pid || le.Unknown {
		t.Fatalf("Acquire while the child holds the lock = %v", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("PID %d", child.Process.Pid)) || !strings.Contains(err.Error(), "locker child") {
		t.Errorf("message %q does not name the holder", err)
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	l, err := Acquire(dir, "test")
	if err != nil {
		t.Fatalf("Acquire after the holder died: %v", err)
	}
	if l.Replaced == nil || l.Replaced.PID != child.Process.Pid {
		t.Fatalf("stale lock not reported: %+v", l.Replaced)
	}
	if n := l.StaleNotice(); !strings.Contains(n, "did not exit cleanly") || !strings.Contains(n, fmt.Sprint(child.Process.Pid)) {
		t.Errorf("stale notice %q", n)
	}
	h, _ := ReadLock(dir)
	if h == nil || h.PID != os.Getpid() {
		t.Fatalf("lock holder = %+v", h)
	}
	// Same process again: refused, the lock is not re-entrant.
	if _, err := Acquire(dir, "again"); !errors.As(err, &le) {
		t.Fatalf("second Acquire = %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if h, _ := ReadLock(dir); h != nil {
		t.Fatalf("lock still there after Release: %+v", h)
	}
	l2, err := Acquire(dir, "test")
	if err != nil || l2.Replaced != nil {
		t.Fatalf("Acquire of a free lock = %v, %+v", err, l2)
	}
	l2.Release()
}

func TestLockOnOtherHostAndUnreadable(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, DirName), 0o700)
	data, _ := json.Marshal(Holder{PID: 1, Hostname: "some-other-host", StartedAt: time.Now(), Command: "migrate-tui"})
	os.WriteFile(LockPath(dir), data, 0o600)
	_, err := Acquire(dir, "test")
	var le *LockedError
	if !errors.As(err, &le) || !le.Unknown || !strings.Contains(err.Error(), "some-other-host") || !strings.Contains(err.Error(), "delete") {
		t.Fatalf("Acquire with a lock from another host = %v", err)
	}
	os.WriteFile(LockPath(dir), []byte("{"), 0o600)
	_, err = Acquire(dir, "test")
	var ue *UnreadableLockError
	if !errors.As(err, &ue) {
		t.Fatalf("Acquire with a garbled lock = %v", err)
	}
}

// Release leaves alone a lock someone else took over.
func TestReleaseOnlyOwnLock(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := json.Marshal(Holder{PID: os.Getpid() + 1, Hostname: "h", StartedAt: time.Now()})
	os.WriteFile(LockPath(dir), other, 0o600)
	if err := l.Release(); err == nil {
		t.Fatal("Release removed someone else's lock")
	}
	if h, _ := ReadLock(dir); h == nil {
		t.Fatal("the other lock is gone")
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := sample(time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)).Encode()
	f.Add(good)
	f.Add([]byte(`{"schema":1}`))
	f.Add([]byte(`{"schema":2}`))
	f.Add([]byte(`{"schema":1,"decisions":{"nodes":{"value":"a=1.2.3.4/amd64/server"}}}`))
	f.Add([]byte(`{"schema":1,"steps":{"x":{"status":"done","evidence":["a"]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := Decode(data, "fuzz.json")
		if err != nil {
			var ce *CorruptError
			var ve *VersionError
			if !errors.As(err, &ce) && !errors.As(err, &ve) {
				t.Fatalf("error of unexpected type %T: %v", err, err)
			}
			return
		}
		// Whatever decodes re-encodes and decodes to the same thing.
		enc, err := st.Encode()
		if err != nil {
			t.Fatal(err)
		}
		st2, err := Decode(enc, "re.json")
		if err != nil {
			t.Fatalf("re-encoded state does not decode: %v\n%s", err, enc)
		}
		enc2, _ := st2.Encode()
		if string(enc) != string(enc2) {
			t.Fatalf("not stable:\n%s\n%s", enc, enc2)
		}
		if _, err := st.Answers(); err != nil {
			t.Fatalf("decoded state has bad answers: %v", err)
		}
	})
}

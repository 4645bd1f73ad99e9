package status

import "testing"

// Every status has its own mark: a warning or an unobservable result can
// never read as a pass.
func TestMarksAreDistinct(t *testing.T) {
	seen := map[string]Status{}
	for _, s := range All {
		m := s.Mark()
		if prev, dup := seen[m]; dup {
			t.Fatalf("%s and %s share the mark %q", prev, s, m)
		}
		seen[m] = s
		if !s.Known() {
			t.Fatalf("%s not Known", s)
		}
	}
	if Status("block").Known() {
		t.Fatal("an unknown spelling is Known")
	}
	if Unobservable.OK() || Fail.OK() || Skip.OK() || !Warn.OK() || !Pass.OK() {
		t.Fatal("OK: only pass and warn let a run go on")
	}
}

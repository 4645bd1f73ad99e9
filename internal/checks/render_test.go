package checks_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"migrate-tui/internal/checks"
)

// An unobservable result has its own mark and its own count: never shown
// as a pass, never counted as a failure.
func TestUnobservableIsCountedApart(t *testing.T) {
	rs := []checks.Result{
		{ID: "SC-001", Title: "runs", Status: checks.Pass},
		{ID: "SC-008", Title: "mTLS", Status: checks.Unobservable, Evidence: "cannot be observed here: simulated nodes", Hint: "on the real cluster"},
	}
	var b bytes.Buffer
	if err := checks.WriteTable(&b, rs, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"? SC-008 mTLS", "found: cannot be observed here", "1 passed, 0 failed, 0 warnings, 0 skipped, 1 cannot be observed here"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "✓ SC-008") {
		t.Errorf("SC-008 shown as a pass:\n%s", out)
	}
	b.Reset()
	if err := checks.WriteJSON(&b, rs); err != nil {
		t.Fatal(err)
	}
	var rep checks.Report
	if err := json.Unmarshal(b.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Pass != 1 || rep.Summary.Fail != 0 || rep.Summary.Unobservable != 1 {
		t.Fatalf("summary = %+v", rep.Summary)
	}
}

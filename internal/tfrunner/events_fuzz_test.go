package tfrunner

import (
	"testing"
	"time"
)

// The Terraform/OpenTofu machine-readable UI stream as the runner reads it:
// any bytes, split anywhere, give events whose counts stay consistent;
// never a panic.
func FuzzEventStream(f *testing.F) {
	f.Add([]byte(`{"@level":"info","@message":"x","type":"apply_start","hook":{"resource":{"addr":"a.b"},"action":"create"}}`+"\n"+
		`{"type":"apply_complete","hook":{"resource":{"addr":"a.b"},"elapsed_seconds":1e308}}`+"\n"+
		`{"type":"change_summary","changes":{"add":1,"change":0,"remove":0,"operation":"apply"}}`+"\n"), uint8(7))
	f.Add([]byte(`{"type":"diagnostic","diagnostic":{"severity":"error","summary":"s","detail":"d","address":"x"}}`+"\n"+`{"type":"diagnostic"}`+"\n"), uint8(1))
	f.Add([]byte(`{"type":"apply_errored","hook":{"elapsed_seconds":-1}}`+"\n{not json\n\x00\n"), uint8(3))
	f.Add([]byte(`{"type":"change_summary","changes":null}`), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, split uint8) {
		var evs []Event
		d := &decoder{stage: "mesh", start: time.Unix(0, 0), now: func() time.Time { return time.Unix(1, 0) }, emit: func(e Event) { evs = append(evs, e) }}
		w := &lineWriter{log: func([]byte) {}, line: d.line}
		n := int(split)%8 + 1
		for len(data) > 0 {
			k := min(n, len(data))
			w.Write(data[:k])
			data = data[k:]
		}
		w.flush()
		for _, e := range evs {
			if e.Done+e.Failed > e.Total || e.Done < 0 || e.Failed < 0 {
				t.Fatalf("inconsistent counts: %+v", e)
			}
			if e.Stage != "mesh" {
				t.Fatalf("event of stage %q", e.Stage)
			}
		}
	})
}

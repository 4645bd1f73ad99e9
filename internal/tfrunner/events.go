package tfrunner

import (
	"bytes"
	"encoding/json"
	"time"
)

// EventKind is the kind of a progress event.
type EventKind string

const (
	EventApplyStart      EventKind = "apply_start"       // the apply began; Total is the plan's count
	EventResourceStart   EventKind = "resource_start"    // Terraform began an action on Address
	EventResourceProgess EventKind = "resource_progress" // still working on Address after ResourceElapsed
	EventResourceDone    EventKind = "resource_complete" // Address finished; Done counts it
	EventResourceErrored EventKind = "resource_errored"  // Address failed; Failed counts it
	EventDiagnostic      EventKind = "diagnostic"        // a warning or error as it arrives
	EventChangeSummary   EventKind = "change_summary"    // Terraform's own tally at the end
	EventApplyDone       EventKind = "apply_done"        // the apply ended (Err says how)
)

// Diagnostic is a Terraform diagnostic as the machine-readable UI sends it.
type Diagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	Address  string `json:"address,omitempty"`
}

// Event is one step of an apply, typed for the TUI and encoded as one JSON
// line by `apply --json`.
type Event struct {
	Kind    EventKind `json:"kind"`
	Stage   string    `json:"stage,omitempty"`
	Time    time.Time `json:"time"`
	Address string    `json:"address,omitempty"`
	Action  string    `json:"action,omitempty"`
	// Elapsed is the time since the apply started.
	Elapsed time.Duration `json:"elapsed_ns"`
	// ResourceElapsed is Terraform's own count for the resource in progress.
	ResourceElapsed time.Duration `json:"resource_elapsed_ns,omitempty"`
	Done            int           `json:"done"`
	Failed          int           `json:"failed,omitempty"`
	Total           int           `json:"total"`
	Diagnostic      *Diagnostic   `json:"diagnostic,omitempty"`
	Changes         *ChangeCounts `json:"changes,omitempty"`
	Err             string        `json:"error,omitempty"`
}

// ChangeCounts is the change_summary message.
type ChangeCounts struct {
	Add       int    `json:"add"`
	Change    int    `json:"change"`
	Remove    int    `json:"remove"`
	Operation string `json:"operation"`
}

// uiMessage is the subset of Terraform's machine-readable UI
// (https://developer.hashicorp.com/terraform/internals/machine-readable-ui)
// the runner reads; terraform-json does not type the apply messages.
type uiMessage struct {
	Level     string    `json:"@level"`
	Message   string    `json:"@message"`
	Timestamp time.Time `json:"@timestamp"`
	Type      string    `json:"type"`
	Hook      struct {
		Resource struct {
			Addr string `json:"addr"`
		} `json:"resource"`
		Action         string  `json:"action"`
		ElapsedSeconds float64 `json:"elapsed_seconds"`
	} `json:"hook"`
	Diagnostic *Diagnostic   `json:"diagnostic"`
	Changes    *ChangeCounts `json:"changes"`
}

// decoder turns machine-readable UI lines into Events, counting progress.
type decoder struct {
	stage string
	start time.Time
	total int
	done  int
	// failed counts resources that errored; they are not Done.
	failed int
	now    func() time.Time
	emit   func(Event)
	diags  []Diagnostic
}

func (d *decoder) line(b []byte) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return
	}
	var m uiMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return
	}
	ev := Event{Stage: d.stage, Time: d.now(), Address: m.Hook.Resource.Addr, Action: m.Hook.Action,
		ResourceElapsed: time.Duration(m.Hook.ElapsedSeconds * float64(time.Second))}
	switch m.Type {
	case "apply_start":
		ev.Kind = EventResourceStart
	case "apply_progress":
		ev.Kind = EventResourceProgess
	case "apply_complete":
		ev.Kind = EventResourceDone
		d.done++
	case "apply_errored":
		ev.Kind = EventResourceErrored
		d.failed++
	case "diagnostic":
		if m.Diagnostic == nil {
			return
		}
		ev.Kind = EventDiagnostic
		ev.Diagnostic = m.Diagnostic
		ev.Address = m.Diagnostic.Address
		d.diags = append(d.diags, *m.Diagnostic)
	case "change_summary":
		if m.Changes == nil {
			return
		}
		ev.Kind = EventChangeSummary
		ev.Changes = m.Changes
	default:
		return
	}
	if d.done+d.failed > d.total {
		d.total = d.done + d.failed
	}
	ev.Elapsed = ev.Time.Sub(d.start)
	ev.Done, ev.Failed, ev.Total = d.done, d.failed, d.total
	if d.emit != nil {
		d.emit(ev)
	}
}

// lineWriter splits what Terraform writes into lines, tees them to a log and
// hands each to a decoder.
type lineWriter struct {
	buf  []byte
	log  func([]byte)
	line func([]byte)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		l := w.buf[:i+1]
		if w.log != nil {
			w.log(l)
		}
		if w.line != nil {
			w.line(l)
		}
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		l := append(w.buf, '\n')
		w.buf = nil
		if w.log != nil {
			w.log(l)
		}
		if w.line != nil {
			w.line(l)
		}
	}
}

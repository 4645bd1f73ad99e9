// Package state keeps migrate-tui's progress in the repository:
// .migrate-tui/state.json (mode 0600, versioned schema, atomic writes) and a
// lock file so two migrate-tui processes never work on one repository.
// The format is documented in specs/003-nomad-to-kubernetes/state.md.
package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"migrate-tui/internal/atomicfile"
	"migrate-tui/internal/decisions"
	"migrate-tui/internal/nomadrecord"
	"migrate-tui/internal/steps"
)

// SchemaVersion is the state file format this build reads and writes.
const SchemaVersion = 1

// DirName is the directory in the repository that holds the state and lock.
const DirName = ".migrate-tui"

// FileName is the state file inside DirName.
const FileName = "state.json"

// Path returns the state file of a repository.
func Path(repoDir string) string { return filepath.Join(repoDir, DirName, FileName) }

// State is the whole state file.
type State struct {
	Schema    int                     `json:"schema"`
	CreatedAt time.Time               `json:"created_at"`
	UpdatedAt time.Time               `json:"updated_at"`
	Steps     map[string]steps.Record `json:"steps"`
	Decisions map[string]Decision     `json:"decisions"`
	Preflight *Preflight              `json:"preflight,omitempty"`
	// Stages holds each installation stage's results, keyed by stage name;
	// the stage runner owns their shape.
	Stages map[string]json.RawMessage `json:"stages,omitempty"`
	// Cutovers records each service moved from Nomad to Kubernetes (or put
	// back), keyed by service name. Optional: files without it read as
	// "nothing cut over" (schema 1 unchanged).
	Cutovers map[string]Cutover `json:"cutovers,omitempty"`
}

// Cutover phases.
const (
	// CutoverStopping: the Nomad job spec is saved and the job is being stopped.
	CutoverStopping = "stopping"
	// CutoverOnKubernetes: the Nomad job is stopped on purpose; the service runs on Kubernetes.
	CutoverOnKubernetes = "on-kubernetes"
	// CutoverRollingBack: the saved job is being registered again.
	CutoverRollingBack = "rolling-back"
	// CutoverOnNomad: rolled back; the Nomad job runs again.
	CutoverOnNomad = "on-nomad"
)

// The per-service cutover states (internal/cutover's machine), in order.
// Phase above says where the Nomad job is; State says how far the service
// got, so an interrupted cutover resumes from the state file.
const (
	StateOnNomadOnly     = "on-nomad-only"
	StateScaffolded      = "scaffolded"
	StateDeployed        = "deployed"
	StateVerified        = "verified"
	StateTrafficSwitched = "traffic-switched"
	StateNomadStopped    = "nomad-stopped"
	StateDone            = "done"
)

// CutoverStates lists the states in the order a cutover moves through them.
var CutoverStates = []string{StateOnNomadOnly, StateScaffolded, StateDeployed, StateVerified, StateTrafficSwitched, StateNomadStopped, StateDone}

// Cutover is one service's move off Nomad.
type Cutover struct {
	Service   string `json:"service"`
	NomadJob  string `json:"nomad_job"`
	Namespace string `json:"nomad_namespace,omitempty"`
	Phase     string `json:"phase"`
	// State is the machine's state; "" (files before it) is derived from
	// Phase: on-kubernetes is nomad-stopped, or done once routing was
	// confirmed, anything else on-nomad-only.
	State string `json:"state,omitempty"`
	// JobSpec is the Nomad job exactly as Nomad returned it (api.Job JSON)
	// before the stop, so a rollback registers what Nomad had. It may hold
	// template text (never rendered secrets); migrate-tui never prints it.
	JobSpec   json.RawMessage `json:"job_spec,omitempty"`
	StoppedAt *time.Time      `json:"stopped_at,omitempty"`
	// StoppedJobModifyIndex is Nomad's JobModifyIndex of the job right after
	// migrate-tui stopped it: a rollback registers the saved spec only while
	// the job is still at that index (nobody changed it since).
	StoppedJobModifyIndex uint64     `json:"stopped_job_modify_index,omitempty"`
	RoutingConfirmedAt    *time.Time `json:"routing_confirmed_at,omitempty"`
	// RoutingSource says how the routing change was confirmed: "interactive"
	// or "--routing-done".
	RoutingSource string     `json:"routing_source,omitempty"`
	RolledBackAt  *time.Time `json:"rolled_back_at,omitempty"`
	Evidence      []string   `json:"evidence,omitempty"`
	Error         string     `json:"error,omitempty"`
}

// IntentionallyStopped reports whether Nomad job id (namespace ns; "" is
// any) was stopped by a cutover and has not been rolled back.
func (st *State) IntentionallyStopped(ns, id string) bool {
	if st == nil {
		return false
	}
	for _, c := range st.Cutovers {
		// "stopping" is an intent recorded before the stop: the job may still
		// run (a kill before the stop), so it stays under the guard until a
		// rerun finds it stopped and records on-kubernetes.
		if c.NomadJob == id && (ns == "" || c.Namespace == "" || c.Namespace == ns) && (c.Phase == CutoverOnKubernetes || c.Phase == CutoverRollingBack) {
			return true
		}
	}
	return false
}

// Decision is one decided value.
type Decision struct {
	Value     json.RawMessage `json:"value"`
	DecidedAt time.Time       `json:"decided_at"`
	// Source says how it was decided: "wizard", "decide --set",
	// "decide --answers", "decide --defaults".
	Source string `json:"source"`
}

// Preflight is what preflight found. Nomad's token is never stored.
type Preflight struct {
	Tools     map[string]string `json:"tools,omitempty"` // tool -> path found
	NomadAddr string            `json:"nomad_addr,omitempty"`
	// Inventory is every Nomad client node as preflight saw it.
	Inventory []nomadrecord.Node `json:"inventory,omitempty"`
	// Baseline is every Nomad job's health at preflight: the reference
	// for the no-disruption criterion (SC-005) and the guard around stages.
	Baseline *nomadrecord.Baseline `json:"baseline,omitempty"`
}

// Baseline returns the preflight baseline, or an error that says how to
// take one.
func (st *State) Baseline() (nomadrecord.Baseline, error) {
	if st == nil || st.Preflight == nil || st.Preflight.Baseline == nil {
		return nomadrecord.Baseline{}, errors.New("no Nomad baseline in the state yet: run migrate-tui preflight (or the wizard's preflight steps) first; it records every Nomad job's health for the guard")
	}
	b := *st.Preflight.Baseline
	if len(st.Cutovers) == 0 {
		return b, nil
	}
	// A job stopped by a cutover left Nomad on purpose: the guard and SC-005
	// compare the others only.
	b.Jobs = nil
	for _, j := range st.Preflight.Baseline.Jobs {
		if !st.IntentionallyStopped(j.Namespace, j.ID) {
			b.Jobs = append(b.Jobs, j)
		}
	}
	return b, nil
}

// FullBaseline is the preflight baseline with every job, including those
// cut over.
func (st *State) FullBaseline() (nomadrecord.Baseline, error) {
	if st == nil || st.Preflight == nil || st.Preflight.Baseline == nil {
		return st.Baseline()
	}
	return *st.Preflight.Baseline, nil
}

// New returns an empty state.
func New(now time.Time) *State {
	return &State{Schema: SchemaVersion, CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
		Steps: map[string]steps.Record{}, Decisions: map[string]Decision{}}
}

// CorruptError: the state file exists but cannot be read as a state.
type CorruptError struct {
	Path   string
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("state file %s is corrupt: %s. migrate-tui does not reset it on its own: restore it from a backup, or move it aside (mv %s %s.broken) to start the migration record afresh (terraform.tfvars keeps your decisions)",
		e.Path, e.Reason, e.Path, e.Path)
}

// VersionError: the state file was written by a newer (or unknown) schema.
type VersionError struct {
	Path  string
	Found int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("state file %s has schema version %d; this migrate-tui reads version %d. Upgrade migrate-tui to continue (the file was left untouched)",
		e.Path, e.Found, SchemaVersion)
}

// Load reads the state of a repository. A missing file gives (nil, nil):
// the migration has not started.
func Load(repoDir string) (*State, error) {
	path := Path(repoDir)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading state file: %w", err)
	}
	return Decode(data, path)
}

// LoadOrNew is Load, with a new state when none exists.
func LoadOrNew(repoDir string, now time.Time) (*State, error) {
	st, err := Load(repoDir)
	if err != nil || st != nil {
		return st, err
	}
	return New(now), nil
}

// Decode parses and checks state bytes; path is for messages.
func Decode(data []byte, path string) (*State, error) {
	var head struct {
		Schema *int `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, &CorruptError{Path: path, Reason: jsonReason(data, err)}
	}
	if head.Schema == nil {
		return nil, &CorruptError{Path: path, Reason: "it has no schema version"}
	}
	if *head.Schema != SchemaVersion {
		if *head.Schema > SchemaVersion {
			return nil, &VersionError{Path: path, Found: *head.Schema}
		}
		return nil, &CorruptError{Path: path, Reason: fmt.Sprintf("schema version %d is not one migrate-tui ever wrote", *head.Schema)}
	}
	var st State
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, &CorruptError{Path: path, Reason: jsonReason(data, err)}
	}
	if dec.More() {
		return nil, &CorruptError{Path: path, Reason: "there is data after the JSON document"}
	}
	if st.Steps == nil {
		st.Steps = map[string]steps.Record{}
	}
	if st.Decisions == nil {
		st.Decisions = map[string]Decision{}
	}
	for id, r := range st.Steps {
		if !r.Status.Valid() {
			return nil, &CorruptError{Path: path, Reason: fmt.Sprintf("step %s has status %q (want pending, running, done, failed or skipped)", id, r.Status)}
		}
	}
	for svc, c := range st.Cutovers {
		switch c.Phase {
		case CutoverStopping, CutoverOnKubernetes, CutoverRollingBack, CutoverOnNomad:
		default:
			return nil, &CorruptError{Path: path, Reason: fmt.Sprintf("cutover of %s has phase %q (want stopping, on-kubernetes, rolling-back or on-nomad)", svc, c.Phase)}
		}
		if c.State != "" && !slices.Contains(CutoverStates, c.State) {
			return nil, &CorruptError{Path: path, Reason: fmt.Sprintf("cutover of %s has state %q (want one of %s)", svc, c.State, strings.Join(CutoverStates, ", "))}
		}
	}
	for k, d := range st.Decisions {
		dd := decisions.Get(k)
		if dd == nil {
			return nil, &CorruptError{Path: path, Reason: fmt.Sprintf("decision %q is not in the catalogue", k)}
		}
		if _, err := dd.Decode(d.Value); err != nil {
			return nil, &CorruptError{Path: path, Reason: "decision " + err.Error()}
		}
	}
	return &st, nil
}

func jsonReason(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) && strings.Contains(se.Error(), "unexpected end") {
		return "it ends in the middle of the JSON document (a truncated file)"
	}
	if errors.As(err, &se) {
		line, col := lineCol(data, se.Offset)
		return fmt.Sprintf("not valid JSON at line %d, column %d (%v)", line, col, se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		line, col := lineCol(data, te.Offset)
		return fmt.Sprintf("field %s at line %d, column %d has the wrong type (%v)", te.Field, line, col, te.Value)
	}
	if strings.Contains(err.Error(), "unexpected EOF") {
		return "it ends in the middle of the JSON document (a truncated file)"
	}
	return err.Error()
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// Encode renders the state as the file's bytes.
func (st *State) Encode() ([]byte, error) {
	st.Schema = SchemaVersion
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Save writes the state atomically: a temp file in the same directory,
// fsync, rename, fsync of the directory. A kill at any moment leaves the old
// or the new file. The file is mode 0600.
func Save(repoDir string, st *State, now time.Time) error {
	st.UpdatedAt = now.UTC()
	data, err := st.Encode()
	if err != nil {
		return err
	}
	return writeState(repoDir, data)
}

// writeState puts encoded state bytes in place atomically.
func writeState(repoDir string, data []byte) error {
	dir := filepath.Join(repoDir, DirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	return atomicfile.WriteFile(Path(repoDir), data, 0o600)
}

// ---- helpers over the state ----

// Answers returns the decided values in canonical form.
func (st *State) Answers() (decisions.Answers, error) {
	a := decisions.Answers{}
	for k, d := range st.Decisions {
		dd := decisions.Get(k)
		if dd == nil {
			return nil, fmt.Errorf("state holds unknown decision %q", k)
		}
		v, err := dd.Decode(d.Value)
		if err != nil {
			return nil, err
		}
		a[k] = v
	}
	return a, nil
}

// SetDecision records a decided value.
func (st *State) SetDecision(key string, v any, source string, now time.Time) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	st.Decisions[key] = Decision{Value: raw, DecidedAt: now.UTC(), Source: source}
	return nil
}

// Record returns a step's record (pending when absent).
func (st *State) Record(id string) steps.Record {
	if r, ok := st.Steps[id]; ok {
		return r
	}
	return steps.Record{Status: steps.Pending}
}

// Start marks a step running.
func (st *State) Start(id string, now time.Time) {
	t := now.UTC()
	st.Steps[id] = steps.Record{Status: steps.Running, StartedAt: &t}
}

// Finish records a step's outcome with evidence (and an error message when
// it failed).
func (st *State) Finish(id string, status steps.Status, evidence []string, errMsg string, now time.Time) {
	r := st.Record(id)
	t := now.UTC()
	if r.StartedAt == nil {
		r.StartedAt = &t
	}
	r.Status, r.FinishedAt, r.Evidence, r.Error = status, &t, evidence, errMsg
	st.Steps[id] = r
}

// Reset puts steps back to pending (a revisited decision invalidates its
// dependents).
func (st *State) Reset(ids ...string) {
	for _, id := range ids {
		delete(st.Steps, id)
	}
}

// InstalledMesh is the mesh K3s was installed with, read from the cluster
// stage's result; "" when the cluster stage has not finished.
func (st *State) InstalledMesh() string {
	if !st.Record("stage.cluster").Status.Finished() {
		return ""
	}
	var r struct {
		ServiceMesh string `json:"service_mesh"`
	}
	if raw, ok := st.Stages["cluster"]; ok && json.Unmarshal(raw, &r) == nil && r.ServiceMesh != "" {
		return r.ServiceMesh
	}
	// The cluster was installed with what was decided at the time.
	if d, ok := st.Decisions["service_mesh"]; ok {
		var s string
		if json.Unmarshal(d.Value, &s) == nil {
			return s
		}
	}
	return decisions.Get("service_mesh").Default.(string)
}

// Invalidate puts a step back to pending and says why (a decision it used
// changed); status and the wizard show the reason.
func (st *State) Invalidate(id, reason string, now time.Time) {
	t := now.UTC()
	st.Steps[id] = steps.Record{Status: steps.Pending, FinishedAt: &t, Evidence: []string{reason}}
}

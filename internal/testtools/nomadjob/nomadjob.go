// Package nomadjob reads a job as the Nomad simulator's HTTP API serves it,
// for tests that must see a rollback register the byte-identical job.
package nomadjob

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"migrate-tui/internal/nomadsim"
)

// nomadOwned are the fields Nomad sets on every registration (indexes,
// version, status, times): the rest is what the operator registered.
var nomadOwned = []string{"Stop", "Status", "StatusDescription", "Version", "CreateIndex", "ModifyIndex", "JobModifyIndex", "SubmitTime", "Stable"}

// Registered is job id as GET /v1/job/<id> returns it, without the fields
// Nomad owns, in a canonical form (keys sorted) to compare byte for byte.
func Registered(t testing.TB, s *nomadsim.Server, id string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/v1/job/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Nomad-Token", s.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET job %s: %d %v %s", id, resp.StatusCode, err, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("GET job %s: %v: %s", id, err, b)
	}
	for _, k := range nomadOwned {
		delete(m, k)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

package specdocs

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/traefikroute"
)

// data-model.md's per-transition table names every check the cutover
// library returns, by the ID the code gives it, and the route file by the
// name the code writes.
func TestTransitionChecksDocumented(t *testing.T) {
	doc, err := Read(repoRoot(t), "data-model.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(doc, "## Per-transition checks and the route file")
	if !ok {
		t.Fatal(`data-model.md has no "## Per-transition checks and the route file" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the checks must name themselves without reaching anything
	ids := []string{
		cutover.Parity(ctx, cutover.ParityInput{}).ID,
		cutover.DataLatest(ctx, cutover.DataInput{}).ID,
		cutover.VolumePaths(ctx, cutover.VolumesInput{}).ID,
		cutover.Secrets(ctx, cutover.SecretsInput{}).ID,
		cutover.AfterSwitch(ctx, cutover.AfterSwitchInput{}).ID,
	}
	inTable := map[string]bool{}
	for _, r := range TableRows(section)[1:] {
		inTable[strings.Trim(r[0], "`")] = true
	}
	for _, id := range ids {
		if id == "" || !inTable[id] {
			t.Errorf("data-model.md's per-transition table has no row for check %q", id)
		}
	}
	if len(inTable) != len(ids) {
		t.Errorf("the table has %d rows, the code %d checks: %v", len(inTable), len(ids), inTable)
	}
	for _, s := range []string{"`" + strings.Replace(traefikroute.FileName("SERVICE"), "SERVICE", "<service>", 1) + "`", traefikroute.Header, "priority of " + strconv.Itoa(traefikroute.Priority)} {
		if !strings.Contains(section, s) {
			t.Errorf("the route file section does not name %s", s)
		}
	}
}

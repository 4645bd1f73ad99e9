package tfvars

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"migrate-tui/internal/decisions"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func defaultsSet() map[string]cty.Value {
	set := map[string]cty.Value{}
	for _, d := range decisions.All() {
		set[d.Key] = d.Cty(d.Default)
	}
	return set
}

func copyFile(t *testing.T, from, to string) {
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o640); err != nil {
		t.Fatal(err)
	}
}

func TestNewFileFromDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	if err := Update(path, defaultsSet(), decisions.Keys()); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	golden(t, "defaults.golden", got)
	assertReadsBack(t, path, defaultsSet())
}

func assertReadsBack(t *testing.T, path string, set map[string]cty.Value) {
	t.Helper()
	vals, nonConst, err := Read(path)
	if err != nil || len(nonConst) > 0 {
		t.Fatalf("Read: %v (non-constant %v)", err, nonConst)
	}
	for k, want := range set {
		d := decisions.Get(k)
		got, err := d.FromCty(vals[k])
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		wantV, _ := d.FromCty(want)
		if !decisions.Equal(got, wantV) {
			t.Errorf("%s: read back %v, wrote %v", k, got, wantV)
		}
	}
}

// A hand-edited file keeps its comments, order, mode and unknown keys; only
// the owned keys change.
func TestHandEditedFilePreserved(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	copyFile(t, "testdata/handedited.tfvars", path)
	set := map[string]cty.Value{
		"service_mesh":    cty.StringVal("cilium"),
		"storage_backend": cty.StringVal("longhorn"),
		"nodes":           decisions.Get("nodes").Cty(decisions.Get("nodes").Default),
	}
	if err := Update(path, set, decisions.Keys()); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	golden(t, "handedited.golden", got)
	for _, keep := range []string{
		"# My homelab's answers. Hand-edited, please keep this comment.",
		`kubeconfig_path = "~/.kube/k3s-homelab.yaml" # where I keep it`,
		`service_mesh = "cilium" # was linkerd before the wizard ran`,
		"/* a block comment\n   spanning lines */\ndomain = \"example.org\"",
		`unknown_key    = { a = 1, b = [true, false] }`,
		`enabled_stages = ["storage"]`,
	} {
		if !strings.Contains(string(got), keep) {
			t.Errorf("lost %q:\n%s", keep, got)
		}
	}
	if strings.Index(string(got), "kubeconfig_path") > strings.Index(string(got), "service_mesh") {
		t.Error("order changed")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("mode changed to %v", st.Mode().Perm())
	}
	assertReadsBack(t, path, set)

	// Writing the same values again changes nothing.
	if err := Update(path, set, decisions.Keys()); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(path)
	if !bytes.Equal(again, got) {
		t.Errorf("a second identical update changed the file:\n%s", again)
	}
}

func TestUnparsableFileRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	copyFile(t, "testdata/broken.tfvars", path)
	before, _ := os.ReadFile(path)
	err := Update(path, defaultsSet(), decisions.Keys())
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("Update = %v, want a *ParseError", err)
	}
	if pe.Line != 3 || pe.Column < 10 {
		t.Errorf("error at %d:%d, want line 3 at the unterminated string", pe.Line, pe.Column)
	}
	if !strings.Contains(err.Error(), path+":3:") || !strings.Contains(err.Error(), "did not change the file") {
		t.Errorf("message %q does not name the line or say the file was left alone", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("an unparsable file was changed")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left files behind: %v", ents)
	}
}

func TestBlockRefused(t *testing.T) {
	_, _, err := Parse([]byte("a = 1\nvariable \"x\" {\n}\n"), "t.tfvars")
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2 || pe.Column != 1 {
		t.Fatalf("Parse = %v, want a ParseError at 2:1", err)
	}
}

func TestMissingFileReadsEmpty(t *testing.T) {
	vals, _, err := Read(filepath.Join(t.TempDir(), "none.tfvars"))
	if err != nil || len(vals) != 0 {
		t.Fatalf("Read(missing) = %v, %v", vals, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/handedited.tfvars", "testdata/broken.tfvars", "testdata/defaults.golden"} {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("a = \"\\u00e9\"\nb = [1, 2]\n"))
	f.Add([]byte("x = {\n"))
	f.Add([]byte("nodes = [{ name = \"a\" }]\n# c\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		_, _, err := Parse(src, "fuzz.tfvars")
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) && (pe.Line < 1 || pe.Column < 1) {
				t.Fatalf("parse error without a position: %v", err)
			}
			return
		}
		// Whatever parses can be updated, and the update reads back.
		set := map[string]cty.Value{"service_mesh": cty.StringVal("linkerd"), "poc_services": cty.ListVal([]cty.Value{cty.StringVal("whoami")})}
		out, err := Render(src, "fuzz.tfvars", set, nil)
		if err != nil {
			t.Fatalf("Render of a parsable file failed: %v", err)
		}
		vals, _, err := Parse(out, "out.tfvars")
		if err != nil {
			t.Fatalf("rendered file does not parse: %v\n%s", err, out)
		}
		if v := vals["service_mesh"]; v.Type() != cty.String || v.AsString() != "linkerd" {
			t.Fatalf("service_mesh reads back as %#v", v)
		}
	})
}

// Writing keys one screen at a time gives the same file as writing them all
// at once (the wizard writes after each screen, decide --answers once).
func TestIncrementalEqualsBatch(t *testing.T) {
	dir := t.TempDir()
	inc, batch := filepath.Join(dir, "inc.tfvars"), filepath.Join(dir, "batch.tfvars")
	all := map[string]cty.Value{}
	for _, sc := range decisions.Screens {
		set := map[string]cty.Value{}
		for _, d := range decisions.ForScreen(sc.ID) {
			set[d.Key] = d.Cty(d.Default)
			all[d.Key] = set[d.Key]
		}
		// Each write carries every key decided so far, as the wizard does.
		if err := Update(inc, all, decisions.Keys()); err != nil {
			t.Fatal(err)
		}
	}
	if err := Update(batch, all, decisions.Keys()); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(inc)
	b, _ := os.ReadFile(batch)
	if !bytes.Equal(a, b) {
		t.Fatalf("incremental and batch writes differ:\n%s\n---\n%s", a, b)
	}
}

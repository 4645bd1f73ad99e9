package tfvars

import (
	"github.com/zclconf/go-cty/cty"

	"errors"
	"fmt"
	"strings"
	"testing"

	"migrate-tui/internal/decisions"
)

// kubeconfig_path = 1 used to panic in the stages' setup (AsString on a
// number); every wrong type is a *TypeError naming the key and both types.
func TestStringWrongTypes(t *testing.T) {
	for _, tc := range []struct{ src, got string }{
		{"kubeconfig_path = 1\n", "number"},
		{"kubeconfig_path = true\n", "bool"},
		{"kubeconfig_path = [\"a\"]\n", "tuple"},
		{"kubeconfig_path = { a = 1 }\n", "object"},
	} {
		vals, _, err := Parse([]byte(tc.src), "t.tfvars")
		if err != nil {
			t.Fatal(err)
		}
		_, ok, err := String(vals, "kubeconfig_path", "t.tfvars")
		var te *TypeError
		if ok || !errors.As(err, &te) || te.Key != "kubeconfig_path" || !strings.Contains(te.Got, tc.got) || te.Want != "string" {
			t.Errorf("%q: ok=%v err=%v", tc.src, ok, err)
		}
		if err != nil && !strings.Contains(err.Error(), "t.tfvars") {
			t.Errorf("message %q does not name the file", err)
		}
	}
	vals, _, _ := Parse([]byte("kubeconfig_path = null\nother = \"x\"\n"), "t.tfvars")
	if s, ok, err := String(vals, "kubeconfig_path", "t.tfvars"); ok || err != nil || s != "" {
		t.Errorf("null: %q %v %v", s, ok, err)
	}
	if s, ok, err := String(vals, "other", "t.tfvars"); !ok || err != nil || s != "x" {
		t.Errorf("string: %q %v %v", s, ok, err)
	}
}

// Hostile terraform.tfvars: every decision key with every kind of value
// reads back as the decision's canonical value or as an error, never a panic.
func FuzzDecisionTypes(f *testing.F) {
	values := []string{`1`, `1.5`, `-1`, `true`, `null`, `"x"`, `""`, `"http://a\n---\nkind: Secret"`, `[]`, `[1]`, `["a", 2]`, `[null]`,
		`{}`, `{ a = 1 }`, `[{ name = 1 }]`, `[{ name = "a", address = "1.2.3.4", arch = "amd64", role = "server" }]`, `"${x}"`}
	for i, d := range decisions.All() {
		f.Add(fmt.Sprintf("%s = %s\n", d.Key, values[i%len(values)]))
	}
	f.Add("kubeconfig_path = 1\nenabled_stages = 3\n")
	f.Fuzz(func(t *testing.T, src string) {
		vals, _, err := Parse([]byte(src), "fuzz.tfvars")
		if err != nil {
			return
		}
		for k, v := range vals {
			if _, _, err := String(vals, k, "fuzz.tfvars"); err != nil {
				var te *TypeError
				if !errors.As(err, &te) {
					t.Fatalf("%s: error of type %T: %v", k, err, err)
				}
			}
			d := decisions.Get(k)
			if d == nil {
				continue
			}
			got, err := d.FromCty(v)
			if err != nil {
				continue
			}
			if err := d.Check(got); err != nil {
				t.Fatalf("%s: FromCty accepted %#v, which Check refuses: %v", k, got, err)
			}
		}
	})
}

// Names and addresses typed by a person (namespaces, service names,
// domains, URLs, paths): whatever a decision accepts is written to
// terraform.tfvars and reads back as the same value, so no accepted text
// can inject another key or break the file.
func FuzzAcceptedValuesRoundTrip(f *testing.F) {
	for i, s := range []string{"poc", "whoami,echo", "brmartin.co.uk", "https://vault.service.consul:8200", "a\"b", "x\n= 1", "${var.x}", "%{ if true }x%{ endif }", "kv/../../x"} {
		f.Add(uint8(i), s)
	}
	keys := decisions.Keys()
	f.Fuzz(func(t *testing.T, which uint8, text string) {
		d := decisions.Get(keys[int(which)%len(keys)])
		v, err := d.Parse(text)
		if err != nil {
			return
		}
		out, err := Render(nil, "fuzz.tfvars", map[string]cty.Value{d.Key: d.Cty(v)}, nil)
		if err != nil {
			t.Fatalf("%s = %q accepted but not writable: %v", d.Key, text, err)
		}
		vals, _, err := Parse(out, "fuzz.tfvars")
		if err != nil || len(vals) != 1 {
			t.Fatalf("%s = %q: the written file does not read back as one key: %v\n%s", d.Key, text, err, out)
		}
		back, err := d.FromCty(vals[d.Key])
		if err != nil || !decisions.Equal(back, v) {
			t.Fatalf("%s = %q reads back as %#v (%v)", d.Key, text, back, err)
		}
	})
}

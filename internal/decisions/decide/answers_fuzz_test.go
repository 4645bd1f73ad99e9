package decide

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"migrate-tui/internal/decisions"
)

// Hostile answers files for `decide --answers`: YAML aliases (a billion
// laughs), newlines in URLs, wrong types. Each gives an error or answers
// every one of which passes its decision's check; never a panic, and the
// file is only read.
func FuzzReadAnswers(f *testing.F) {
	f.Add("vault_address: https://vault.service.consul:8200\nservice_mesh: linkerd\n")
	f.Add("minio_endpoint: \"http://minio:9000\\n---\\nkind: Secret\"\n")
	f.Add("minio_endpoint: |\n  http://minio:9000\n  ---\n  kind: Secret\n")
	f.Add("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n")
	f.Add("poc_services: &s [whoami, echo]\nk3s_disable: *s\n")
	f.Add(`{"nodes": [{"name": "a", "address": "1.2.3.4", "arch": "amd64", "role": "server"}], "traefik_https_node_port": "x"}`)
	f.Add("vault_address: http://user:pass@vault:8200\n")
	f.Fuzz(func(t *testing.T, data string) {
		path := filepath.Join(t.TempDir(), "answers.yaml")
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		ans, err := ReadAnswers(path)
		if after, _ := os.ReadFile(path); string(after) != data {
			t.Fatal("the answers file was changed")
		}
		if err != nil {
			if strings.Contains(data, "pass@") && strings.Contains(err.Error(), "pass@") {
				t.Fatalf("the message echoes credentials: %v", err)
			}
			return
		}
		for k, v := range ans {
			if err := decisions.Get(k).Check(v); err != nil {
				t.Fatalf("%s = %#v accepted, but its check refuses it: %v", k, v, err)
			}
			if s, ok := v.(string); ok && strings.ContainsAny(s, "\n\r") && (k == "vault_address" || k == "minio_endpoint") {
				t.Fatalf("%s accepted with a newline: %q", k, s)
			}
		}
	})
}

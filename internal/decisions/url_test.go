package decisions

import (
	"strings"
	"testing"
)

// vault_address and minio_endpoint were only checked for ^https?://: a
// newline and "---" injected objects into the manifests, and credentials in
// the URL were stored in terraform.tfvars and the state.
func TestURLDecisionsRefuseHostileValues(t *testing.T) {
	for _, key := range []string{"vault_address", "minio_endpoint"} {
		d := Get(key)
		for _, ok := range []string{"https://vault.service.consul:8200", "http://10.0.0.5:9000", "https://vault.example.org", "http://[fd00::1]:9000/", "https://h:8200/v1"} {
			if _, err := d.Parse(ok); err != nil {
				t.Errorf("%s=%q refused: %v", key, ok, err)
			}
		}
		for _, tc := range []struct{ in, want string }{
			{"http://a:9000\n---\napiVersion: v1\nkind: Secret", "whitespace or a control character"},
			{"http://a:9000\r", "control character"},
			{"http://a :9000", "whitespace"},
			{"http://user:s3cret@minio:9000", "credentials"},
			{"http://user@minio:9000", "credentials"},
			{"ftp://minio:9000", "http:// or https://"},
			{"https://", "no host"},
			{"https:minio", "no host"},
			{"http://minio:9000/?x=1", "query or fragment"},
			{"http://minio:9000#x", "query or fragment"},
			{"http://minio:notaport", "not a URL"},
		} {
			err := d.Check(tc.in) // Check, as an answers file or the state gives it untrimmed
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s=%q: %v (want %q)", key, tc.in, err, tc.want)
				continue
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("%s: the message echoes the password: %v", key, err)
			}
		}
	}
}

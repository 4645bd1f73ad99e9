package scaffold

import (
	"fmt"
	"regexp"
	"strings"
)

// Two Litestream copies replicating into one bucket corrupt each other's
// replica. Like modules-k8s/overseerr (issue 10), the scaffolded copy
// replicates into its own bucket with its own Vault key, and reads the
// Nomad copy's bucket only to seed its database (a restore) on the first
// start.

// Sentinels of the Litestream variables, made template references by literal.
const (
	lsBucketSentinel = "@@litestream_bucket@@"
	lsKeySentinel    = "@@litestream_vault_key@@"
	seedSentinel     = "@@seed_bucket@@"
)

// seedName names the seed's init container, ConfigMap and Secret parts.
const seedName = "litestream-seed"

type litestream struct {
	bucket   string      // the Nomad copy's bucket
	key      string      // the Nomad copy's Vault key (without the mount)
	mount    string      // the KV mount Nomad read it from
	config   string      // the Nomad copy's litestream.yml
	dbs      []string    // the databases it replicates
	seedKeys []secretKey // the Nomad copy's credentials, as Nomad read them
	image    string
}

var (
	bucketLine = regexp.MustCompile(`(?m)^(\s*bucket:\s*)"?([a-z0-9][a-z0-9.-]+[a-z0-9])"?\s*$`)
	dbLine     = regexp.MustCompile(`(?m)^\s*-\s+path:\s*"?([^"\s]+)"?\s*$`)
)

func isLitestream(image string) bool {
	repo, _, _ := strings.Cut(image, ":")
	return strings.HasSuffix(repo, "/litestream") || repo == "litestream"
}

// lsConfig takes a Litestream config template of the Nomad copy: it is
// kept as the seed's config, and this copy's gets its own bucket.
func (m *model) lsConfig(w, what, data string) string {
	mm := bucketLine.FindAllStringSubmatch(data, -1)
	if len(mm) == 0 {
		return data
	}
	if m.ls.bucket == "" {
		m.ls.bucket, m.ls.config = mm[0][2], data
		for _, d := range dbLine.FindAllStringSubmatch(data, -1) {
			m.ls.dbs = append(m.ls.dbs, d[1])
		}
	}
	for _, x := range mm[1:] {
		if x[2] != m.ls.bucket {
			m.no(w, what+" bucket "+x[2], "a second Litestream bucket: only "+m.ls.bucket+" is replaced by litestream_bucket; give this one its own bucket by hand")
		}
	}
	m.ok(w, what+" bucket "+m.ls.bucket, "litestream", "this copy replicates into litestream_bucket (default "+m.ls.bucket+"-k8s), never the Nomad copy's")
	return bucketLine.ReplaceAllStringFunc(data, func(l string) string {
		s := bucketLine.FindStringSubmatch(l)
		if s[2] != m.ls.bucket {
			return l
		}
		return s[1] + lsBucketSentinel
	})
}

// lsKeys makes a Litestream task's Vault reads this copy's own key; the
// Nomad copy's reads are kept for the seed.
func (m *model) lsKeys(w, what string, keys []secretKey) []secretKey {
	out := make([]secretKey, len(keys))
	for i, k := range keys {
		mount, _, _ := strings.Cut(k.path, "/")
		if m.ls.key == "" {
			m.ls.key, m.ls.mount = k.key, mount
		}
		m.ls.seedKeys = appendKey(m.ls.seedKeys, k)
		k.own = true
		k.key = lsKeySentinel
		k.path = mount + "/data/" + lsKeySentinel
		out[i] = k
	}
	m.ok(w, what, "litestream", "this copy's own S3 credentials: Vault key litestream_vault_key (default "+m.ls.key+"-k8s), never the Nomad copy's")
	return out
}

// seed adds the init container that restores, read only, from the Nomad
// copy's bucket while the database is still missing, after the group's
// own Litestream restore (so this copy's own replica wins once it exists).
func (m *model) seed(w string, g *group, inits []map[string]any, podVolumes *[]map[string]any) []map[string]any {
	if m.ls.bucket == "" || len(m.ls.dbs) == 0 || len(m.ls.seedKeys) == 0 {
		m.no(w, "Litestream", "no bucket, database or Vault credentials could be read from its config and templates: this copy is not seeded from the Nomad copy's replica; restore it by hand")
		return inits
	}
	lines := []string{`[ -n "` + seedSentinel + `" ] || exit 0`}
	for _, db := range m.ls.dbs {
		lines = append(lines, "litestream restore -config /etc/"+seedName+"/litestream.yml -if-db-not-exists -if-replica-exists "+db)
	}
	at, mounts := 0, []map[string]any(nil)
	for i, c := range inits {
		if img, _ := c["image"].(string); isLitestream(img) && c["restartPolicy"] == nil {
			at = i + 1
			mounts = nil
			vm, _ := c["volumeMounts"].([]map[string]any)
			for _, mt := range vm {
				if n, _ := mt["name"].(string); !strings.HasPrefix(n, "tpl-") {
					mounts = append(mounts, mt)
				}
			}
		}
	}
	mounts = append(mounts, map[string]any{"name": seedName, "mountPath": "/etc/" + seedName, "readOnly": true})
	name := dnsLabel(m.svc + "-" + seedName)
	c := map[string]any{
		"name":         seedName,
		"image":        m.ls.image,
		"command":      []string{"/bin/sh", "-ec", strings.Join(lines, "\n")},
		"envFrom":      []map[string]any{{"secretRef": map[string]any{"name": name, "optional": true}}},
		"volumeMounts": mounts,
	}
	*podVolumes = append(*podVolumes, map[string]any{"name": seedName, "configMap": map[string]any{"name": name}})
	m.configs = append(m.configs, configFile{name: name, file: "litestream.yml", data: bucketLine.ReplaceAllString(m.ls.config, "${1}"+seedSentinel)})
	m.secrets = append(m.secrets, secret{name: name, keys: m.ls.seedKeys, group: g.obj, container: seedName, env: true, file: seedName + ".env"})
	m.ok(w, "Litestream seed", "litestream", fmt.Sprintf("initContainer %s restores %s from seed_bucket (default %s, the Nomad copy's; read only) while it is missing", seedName, strings.Join(m.ls.dbs, ", "), m.ls.bucket))
	out := append([]map[string]any{}, inits[:at]...)
	out = append(out, c)
	return append(out, inits[at:]...)
}

// lsVariablesTF are the module's Litestream variables: defaults the Nomad
// copy's names with -k8s, and the Nomad copy's refused.
func (m *model) lsVariablesTF() string {
	if m.ls.bucket == "" {
		return ""
	}
	return fmt.Sprintf(`
variable "litestream_bucket" {
  description = "This copy's own Litestream bucket, never the Nomad copy's (%[1]s): create it before enabling the module."
  type        = string
  default     = %[2]s
  nullable    = false
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.litestream_bucket)) && var.litestream_bucket != %[3]s
    error_message = "litestream_bucket must be a bucket name other than %[1]s (the Nomad copy's)."
  }
}

variable "litestream_vault_key" {
  description = "Key (in the %[4]s KV mount) of this copy's own S3 credentials for litestream_bucket, with the properties the Nomad copy's key %[5]s has; never that key."
  type        = string
  default     = %[6]s
  nullable    = false
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.litestream_vault_key)) && var.litestream_vault_key != %[7]s
    error_message = "litestream_vault_key must be a KV path other than %[5]s (the Nomad copy's credentials)."
  }
}

variable "seed_bucket" {
  description = "The Nomad copy's Litestream bucket, read (restore only) while this copy's database is missing; empty: start with an empty database."
  type        = string
  default     = %[3]s
  nullable    = false
  validation {
    condition     = var.seed_bucket == "" || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.seed_bucket))
    error_message = "seed_bucket must be empty or a bucket name."
  }
}
`, text(m.ls.bucket), hcl(m.ls.bucket+"-k8s"), hcl(m.ls.bucket), text(m.ls.mount), text(m.ls.key), hcl(m.ls.key+"-k8s"), hcl(m.ls.key))
}

// text is s as the inside of an HCL string literal.
func text(s string) string {
	q := hcl(s)
	return q[1 : len(q)-1]
}

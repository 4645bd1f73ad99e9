// Package scaffold turns a Nomad job (nomad/api's api.Job) into a service
// module under modules-k8s/<service> in the module pattern of the existing
// ones (specs/003-nomad-to-kubernetes/contracts/module-pattern.md). What it
// cannot map is returned as a list and written as comments into the module:
// nothing in the job is dropped silently.
package scaffold

import (
	"fmt"
	"strings"
)

// Mapping is one row of the documented mapping: a Nomad job field and what
// the generated module makes of it. The table is data so that documents and
// tests read the same rows (TestMappingTableCovered keeps every row used).
type Mapping struct {
	ID         string // stable key, used in Item.Mapping
	Nomad      string // the job field
	Kubernetes string // what the module makes of it
}

// Mappings is the table of everything scaffold maps.
var Mappings = []Mapping{
	{"image", "task.config.image (docker)", "container image"},
	{"args", "task.config.args / command / entrypoint", "container args / command"},
	{"env", "task.env; ${NOMAD_PORT_x} / ${NOMAD_UPSTREAM_ADDR_x} in values", "container env (sorted by name) after NOMAD_PORT_* / NOMAD_UPSTREAM_ADDR_* set by scaffold, referenced as $(VAR)"},
	{"ports", "group.network.port (to / static)", "containerPort named after the label; the Service's ports"},
	{"resources", "task.resources cpu (MHz) / cores / memory / memory_max", "requests cpu (1 MHz = 1m) / cores; memory request, limit memory_max else memory"},
	{"arch", "constraint ${attr.cpu.arch} = X", "nodeSelector kubernetes.io/arch: X"},
	{"node", "constraint ${node.unique.name} = X", "nodeSelector kubernetes.io/hostname: X"},
	{"count", "group.count", "replicas"},
	{"host", "service tag traefik.http.routers.*.rule=Host(`h`)", "IngressRoute host (variable host's default)"},
	{"middlewares", "service tags traefik.http.middlewares.<name>.<type>.* and traefik.http.routers.*.middlewares", "Middleware <svc>-<name> (headers, redirectScheme, redirectRegex, stripPrefix, addPrefix, compress, rateLimit, ipAllowList, forwardAuth) referenced by the IngressRoute in the router's order; middlewares defined elsewhere (@file) in the ingress_middlewares output"},
	{"checks", "service check http / tcp", "readiness and liveness probes"},
	{"vault-env", "template with secret, env = true", "vault_method external-secrets: ExternalSecret keys -> Secret, envFrom; agent-injector: injector annotations writing single-quoted exports to /vault/secrets/<task>-<n>.env, sourced before the command"},
	{"vault-file", "template with secret, file", "external-secrets: ExternalSecret keys -> Secret mounted at the destination's directory; agent-injector: the Nomad template itself rendered by the injected agent at the destination"},
	{"configmap", "template without secret", "ConfigMap mounted with subPath at the destination"},
	{"csi", "group volume type csi (source glusterfs_<svc>_<type>)", "PersistentVolumeClaim <svc>-<type> per storage_backend (glusterfs-hostpath PV, glusterfs-nfs, local-path, longhorn), sized volume_sizes[claim] else volume_size (scaffold --volume-size, default 1Gi)"},
	{"host-volume", "group volume type host", "PersistentVolumeClaim <svc>-<name> per storage_backend"},
	{"volume-mount", "task volume_mount", "volumeMount"},
	{"periodic", "periodic cron / prohibit_overlap / time_zone", "CronJob schedule / concurrencyPolicy Forbid / timeZone"},
	{"batch", "type = batch", "Job"},
	{"service", "type = service", "Deployment (strategy Recreate when it claims a ReadWriteOnce volume)"},
	{"tasks", "several tasks in a group", "several containers in one pod"},
	{"prestart", "lifecycle prestart, sidecar = false", "initContainer"},
	{"sidecar", "lifecycle prestart or poststart, sidecar = true", "native sidecar: initContainer with restartPolicy Always"},
	{"litestream", "Litestream task (litestream image): its config's bucket, its env template's Vault key", "this copy's own bucket (litestream_bucket) and Vault key (litestream_vault_key), never the Nomad copy's; a litestream-seed initContainer restores (reads only) from the Nomad copy's bucket (seed_bucket) while the database is missing"},
	{"gpu", "task.resources.device nvidia/gpu (count)", "limits nvidia.com/gpu and nodeSelector nvidia.com/gpu.present=true"},
	{"upstreams", "connect sidecar_service proxy upstreams", "mesh_upstreams output: the services whose allow policy must admit this one"},
	{"kill-timeout", "task.kill_timeout", "terminationGracePeriodSeconds"},
	{"privileged", "task.config.privileged", "securityContext.privileged"},
	{"groups", "several task groups", "one workload per group, <svc>-<group> after the first"},
}

// Item is one thing of the job, mapped or not.
type Item struct {
	Where   string `json:"where"`             // e.g. group web, task app
	What    string `json:"what"`              // the Nomad field and value
	Mapping string `json:"mapping,omitempty"` // Mappings ID (mapped items)
	Result  string `json:"result,omitempty"`  // what was made of it
	Reason  string `json:"reason,omitempty"`  // why it was not mapped
}

// MarkdownTable renders Mappings as the documented table (MAPPING.md;
// TestMappingDoc keeps the file equal to it).
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| id | Nomad job | Kubernetes (generated module) |\n|---|---|---|\n")
	for _, m := range Mappings {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", m.ID, pipe(m.Nomad), pipe(m.Kubernetes))
	}
	return b.String()
}

func pipe(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

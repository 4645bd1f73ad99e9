package scaffold

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"sigs.k8s.io/yaml"
)

// sentinel stands for the namespace in Go-written manifests until the
// template syntax replaces it (after the literal text is escaped).
const sentinel = "@@namespace@@"

// esc keeps literal text literal inside a templatefile template.
func esc(s string) string {
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
}

// hcl quotes s as an HCL string literal (JSON escapes are HCL escapes;
// template sequences are escaped).
func hcl(s string) string {
	b, _ := json.Marshal(s)
	return esc(string(b))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func (m *model) emit() (map[string]string, error) {
	files := map[string]string{
		"versions.tf":                   versionsTF,
		"variables.tf":                  m.variablesTF(),
		"outputs.tf":                    m.outputsTF(),
		"main.tf":                       m.mainTF(),
		"manifests/service.yaml":        serviceYAML,
		"manifests/volumes.yaml":        volumesYAML,
		"manifests/externalsecret.yaml": externalSecretYAML,
	}
	if len(m.configs) > 0 {
		var docs []string
		for _, c := range m.configs {
			obj := map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
				"metadata": map[string]any{"name": c.name, "namespace": sentinel, "labels": m.podLabels(m.svc)},
				"data":     map[string]any{c.file: c.data}}
			b, err := yaml.Marshal(obj)
			if err != nil {
				return nil, err
			}
			docs = append(docs, string(b))
		}
		files["manifests/configmaps.yaml"] = literal(docs)
	}
	mw, err := m.middlewaresYAML()
	if err != nil {
		return nil, err
	}
	if mw != "" {
		files["manifests/middlewares.yaml"] = mw
	}
	vj, err := m.vaultJSON()
	if err != nil {
		return nil, err
	}
	if vj != "" {
		files[VaultFile] = vj
	}
	// tofu fmt's layout, so the module passes fmt -check in the repository.
	for n, f := range files {
		if strings.HasSuffix(n, ".tf") {
			files[n] = string(hclwrite.Format([]byte(f)))
		}
	}
	for _, g := range m.groups {
		s, err := m.workloadYAML(g)
		if err != nil {
			return nil, err
		}
		files["manifests/workload-"+dnsLabel(g.name)+".yaml"] = s
	}
	return files, nil
}

// literal joins Go-written documents into a template: escaped, then the
// sentinels made template references.
func literal(docs []string) string {
	s := esc(strings.Join(docs, "---\n"))
	return strings.NewReplacer(sentinel, "${namespace}", roleSentinel, "${vault_role}", authSentinel, "${auth_mount}",
		lsBucketSentinel, "${litestream_bucket}", lsKeySentinel, "${litestream_vault_key}", seedSentinel, "${seed_bucket}").Replace(s)
}

func (m *model) podLabels(obj string) map[string]any {
	return map[string]any{
		"app.kubernetes.io/name":       obj,
		"app.kubernetes.io/instance":   obj + "-" + sentinel,
		"app.kubernetes.io/part-of":    "migrate-tui",
		"app.kubernetes.io/managed-by": "terraform",
	}
}

func (m *model) workloadYAML(g *group) (string, error) {
	head := fmt.Sprintf("# Nomad group %q of job %q as a %s.\n", g.name, str(m.job.Name), g.kind)
	eso, err := m.workloadDocs(g, g.podSpec, nil, false)
	if err != nil || g.injSpec == nil {
		return esc(head) + eso, err
	}
	inj, err := m.workloadDocs(g, g.injSpec, g.injAnn, true)
	if err != nil {
		return "", err
	}
	head += "# Two variants of the pod, chosen by vault_method: the Vault Agent\n" +
		"# injector's annotations, or External Secrets' Secrets (external-secrets,\n" +
		"# or none: Secrets of those names made by other means).\n"
	return esc(head) + "%{ if vault_method == \"agent-injector\" ~}\n" + inj + "%{ else ~}\n" + eso + "%{ endif ~}\n", nil
}

// workloadDocs renders g's ServiceAccount and workload with a pod spec
// (and pod annotations) as template text.
func (m *model) workloadDocs(g *group, podSpec, ann map[string]any, token bool) (string, error) {
	labels := m.podLabels(g.obj)
	meta := func() map[string]any {
		return map[string]any{"name": g.obj, "namespace": sentinel, "labels": labels}
	}
	// The injected agent logs in to Vault with the pod's token.
	sa := map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(), "automountServiceAccountToken": token}
	podMeta := map[string]any{"labels": labels}
	if len(ann) > 0 {
		podMeta["annotations"] = ann
	}
	tmpl := map[string]any{"metadata": podMeta, "spec": podSpec}
	var w map[string]any
	switch g.kind {
	case "Deployment":
		spec := map[string]any{
			"replicas": g.replicas,
			"selector": map[string]any{"matchLabels": map[string]any{
				"app.kubernetes.io/name": g.obj, "app.kubernetes.io/instance": g.obj + "-" + sentinel}},
			"template": tmpl,
		}
		if g.rwo {
			// A ReadWriteOnce claim cannot be held by the old and the new pod
			// at once during a rolling update.
			spec["strategy"] = map[string]any{"type": "Recreate"}
		}
		w = map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(), "spec": spec}
	case "Job":
		w = map[string]any{"apiVersion": "batch/v1", "kind": "Job", "metadata": meta(),
			"spec": map[string]any{"backoffLimit": 3, "template": tmpl}}
	case "CronJob":
		spec := map[string]any{"schedule": g.cron, "jobTemplate": map[string]any{"spec": map[string]any{"backoffLimit": 3, "template": tmpl}}}
		if g.tz != "" {
			spec["timeZone"] = g.tz
		}
		if g.noOverlap {
			spec["concurrencyPolicy"] = "Forbid"
		}
		w = map[string]any{"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta(), "spec": spec}
	}
	var docs []string
	for _, o := range []map[string]any{sa, w} {
		b, err := yaml.Marshal(o)
		if err != nil {
			return "", err
		}
		docs = append(docs, string(b))
	}
	return literal(docs), nil
}

// lsVars are the Litestream variables the templates reference.
func (m *model) lsVars() string {
	if m.ls.bucket == "" {
		return ""
	}
	return "    litestream_bucket    = var.litestream_bucket\n    litestream_vault_key = var.litestream_vault_key\n    seed_bucket          = var.seed_bucket\n"
}

// hclList is an HCL list of strings.
func hclList(l []string) string {
	q := make([]string, 0, len(l))
	for _, s := range l {
		q = append(q, hcl(s))
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// hasMiddlewares: some middleware of the job is made.
func (m *model) hasMiddlewares() bool {
	for _, d := range m.mwDefs {
		if !d.bad {
			return true
		}
	}
	return false
}

func (m *model) main() *group { return m.groups[0] }

func (m *model) mainTF() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: scaffolded by `migrate-tui scaffold` from the Nomad job %s.\n", m.svc, oneLine(str(m.job.Name)))
	b.WriteString("# Review before enabling it; regenerate with --force (edits here are lost).\n")
	if len(m.unmapped) == 0 {
		b.WriteString("# Everything in the job was mapped.\n")
	} else {
		b.WriteString("#\n# NOT MAPPED (do these by hand):\n")
		for _, u := range m.unmapped {
			fmt.Fprintf(&b, "#   - %s: %s: %s\n", oneLine(u.Where), oneLine(u.What), oneLine(u.Reason))
		}
	}
	g := m.main()
	b.WriteString("locals {\n")
	fmt.Fprintf(&b, "  name     = %s\n", hcl(m.svc))
	b.WriteString("  instance = \"${local.name}-${var.namespace}\"\n")
	b.WriteString("  labels = {\n    \"app.kubernetes.io/name\"       = local.name\n    \"app.kubernetes.io/instance\"   = local.instance\n    \"app.kubernetes.io/part-of\"    = \"migrate-tui\"\n    \"app.kubernetes.io/managed-by\" = \"terraform\"\n  }\n")
	// Services: the main group's http port answers on 80, as the shared
	// IngressRoute and the other modules expect.
	b.WriteString("  services = [\n")
	for _, gr := range m.groups {
		if len(gr.ports) == 0 || gr.kind != "Deployment" {
			continue
		}
		fmt.Fprintf(&b, "    { name = %s, main = %t, ports = [", hcl(gr.obj), gr.main)
		for i, p := range gr.ports {
			if i > 0 {
				b.WriteString(", ")
			}
			n := p.port
			if gr.main && p.name == "http" {
				n = 80
			}
			fmt.Fprintf(&b, "{ name = %s, port = %d }", hcl(p.name), n)
		}
		b.WriteString("] },\n")
	}
	b.WriteString("  ]\n")
	b.WriteString("  volumes = [\n")
	for _, v := range m.volumes {
		fmt.Fprintf(&b, "    { claim = %s, dir = %s, access = %s, size = lookup(var.volume_sizes, %s, var.volume_size) },\n", hcl(v.claim), hcl(v.dir), hcl(v.access), hcl(v.claim))
	}
	b.WriteString("  ]\n  secrets = [\n")
	for _, s := range m.secrets {
		fmt.Fprintf(&b, "    { name = %s, keys = [\n", hcl(s.name))
		for _, k := range s.keys {
			key := hcl(k.key)
			if k.own {
				key = "var.litestream_vault_key"
			}
			fmt.Fprintf(&b, "      { secret_key = %s, key = %s, property = %s },\n", hcl(k.secretKey), key, hcl(k.property))
		}
		b.WriteString("    ] },\n")
	}
	b.WriteString("  ]\n")
	routed := g.kind == "Deployment" && g.httpPort > 0
	fmt.Fprintf(&b, `
  vars = {
    name                 = local.name
    namespace            = var.namespace
    instance             = local.instance
    labels               = trimspace(yamlencode(local.labels))
    host                 = var.host
    port                 = %d
    ingress_mode         = var.ingress_mode
    ingress_namespace    = var.ingress_namespace
    cluster_cidr         = var.cluster_cidr
    lan_cidr             = var.lan_cidr
    node_port            = var.node_port
    clients              = var.allowed_clients
    target_kind          = %s
    update_mode          = var.vpa_update_mode
    services             = local.services
    volumes              = local.volumes
    secrets              = local.secrets
    storage_backend      = var.storage_backend
    glusterfs_mount_root = trimsuffix(var.glusterfs_mount_root, "/")
    secret_store         = var.secret_store
    vault_method         = var.vault_method
    vault_role           = var.vault_role
    auth_mount           = var.vault_auth_mount
    middlewares          = %s
%s  }
  routed  = %t
  traefik = local.routed && var.host != "" && contains(["traefik-behind-external", "bundled-traefik"], var.ingress_mode)

  own = {
`, g.httpPort, hcl(g.kind), hclList(m.mwRefs), m.lsVars(), routed)
	var own []string
	for _, gr := range m.groups {
		own = append(own, "workload-"+dnsLabel(gr.name)+".yaml")
	}
	if len(m.configs) > 0 {
		own = append(own, "configmaps.yaml")
	}
	sort.Strings(own)
	for _, f := range own {
		fmt.Fprintf(&b, "    %-31s = true\n", hcl(f))
	}
	if len(m.mwDefs) > 0 && m.hasMiddlewares() {
		// Middleware objects exist only where Traefik's CRDs do.
		b.WriteString("    \"middlewares.yaml\"              = local.traefik\n")
	}
	b.WriteString(`    "service.yaml"                  = length(local.services) > 0
    "volumes.yaml"                  = length(local.volumes) > 0
    "externalsecret.yaml"           = length(local.secrets) > 0 && var.vault_method == "external-secrets"
  }
  shared = {
    "ingressroute.yaml"               = local.traefik
    "vpa.yaml"                        = var.vpa_enabled && local.vars.target_kind == "Deployment"
    "policy-${var.service_mesh}.yaml" = local.routed && var.service_mesh != "none" && var.ingress_mode != "none"
  }

  rendered = concat(
    [for f, on in local.own : templatefile("${path.module}/manifests/${f}", local.vars) if on],
    [for f, on in local.shared : templatefile("${path.module}/../shared/manifests/${f}", local.vars) if on],
  )
}

module "apply" {
  source  = "../../k8s/apply"
  streams = local.rendered
}
`)
	return b.String()
}

func (m *model) outputsTF() string {
	ups := make([]string, 0, len(m.upstream))
	for _, u := range m.upstream {
		ups = append(ups, hcl(u))
	}
	mws := make([]string, 0, len(m.mwOther))
	for _, u := range m.mwOther {
		mws = append(mws, hcl(u))
	}
	return fmt.Sprintf(`output "name" {
  description = "Name of the main workload and its Service."
  value       = local.name
}

output "url" {
  description = "Where the service answers (empty when the job has no routed port)."
  value       = !local.routed ? "" : var.ingress_mode == "external-direct" ? "http://<node>:${var.node_port}" : "https://${var.host}"
}

output "objects" {
  description = "Objects applied (kind/namespace/name)."
  value       = module.apply.objects
}

output "manifests" {
  description = "The rendered YAML streams (what migrate-tui scaffold --dry-run prints)."
  value       = local.rendered
}

output "mesh_upstreams" {
  description = "Services this one called through Consul Connect: add it to their allowed clients (their mesh allow policy)."
  value       = [%s]
}

output "ingress_middlewares" {
  description = "Traefik middlewares the Nomad router used that the job does not define (Traefik's file provider on the Nomad side): make them as Middleware objects, then add them to the IngressRoute."
  value       = [%s]
}
`, strings.Join(ups, ", "), strings.Join(mws, ", "))
}

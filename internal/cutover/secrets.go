package cutover

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/nomad/api"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"migrate-tui/internal/checks"
)

// VaultRead is one Vault path a Nomad job's templates read.
type VaultRead struct {
	Path    string   // as the template names it: nomad/data/default/overseerr
	Keys    []string // keys read by name (.Data.data.KEY)
	AllKeys bool     // the template ranges over every key
	Tasks   []string
}

var (
	withSecret = regexp.MustCompile(`secret\s+"([^"]+)"`)
	dataKey    = regexp.MustCompile(`\.Data\.data\.([A-Za-z_][A-Za-z0-9_]*)`)
	rangeData  = regexp.MustCompile(`range\s+[^}]*\.Data\.data\b`)
)

// NomadVaultReads lists the Vault paths the job's templates read, with the
// keys each reads by name.
func NomadVaultReads(job *api.Job) []VaultRead {
	by := map[string]*VaultRead{}
	if job == nil {
		return nil
	}
	for _, tg := range job.TaskGroups {
		for _, t := range tg.Tasks {
			for _, tp := range t.Templates {
				text := deref(tp.EmbeddedTmpl)
				idx := withSecret.FindAllStringSubmatchIndex(text, -1)
				for n, ix := range idx {
					end := len(text)
					if n+1 < len(idx) {
						end = idx[n+1][0]
					}
					path, body := text[ix[2]:ix[3]], text[ix[1]:end]
					r := by[path]
					if r == nil {
						r = &VaultRead{Path: path}
						by[path] = r
					}
					for _, m := range dataKey.FindAllStringSubmatch(body, -1) {
						if !slices.Contains(r.Keys, m[1]) {
							r.Keys = append(r.Keys, m[1])
						}
					}
					r.AllKeys = r.AllKeys || rangeData.MatchString(body)
					if !slices.Contains(r.Tasks, t.Name) {
						r.Tasks = append(r.Tasks, t.Name)
					}
				}
			}
		}
	}
	var out []VaultRead
	for _, r := range by {
		sort.Strings(r.Keys)
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// vaultKey is a path without its KV mount (and KV v2's data/): what an
// ExternalSecret's remoteRef.key names when its store carries the mount.
func vaultKey(path, mount string) string {
	path = strings.Trim(path, "/")
	if rest, ok := strings.CutPrefix(path, mount+"/"); ok {
		path = rest
		if r, ok := strings.CutPrefix(path, "data/"); ok {
			path = r
		}
	}
	return path
}

// SecretsInput is the secrets check's input.
type SecretsInput struct {
	Service   string
	Job       *api.Job // the Nomad job (its templates)
	Kube      kubernetes.Interface
	Dynamic   dynamic.Interface
	Namespace string // the Kubernetes copy's namespace
	// VaultMethod is the vault decision: external-secrets (default) or
	// agent-injector.
	VaultMethod string
	KVMount     string // vault_kv_mount; default nomad
	// AcceptUnobserved turns "no controller synced it" into a warning.
	AcceptUnobserved bool
}

var gvrExternalSecrets = schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"}

// Secrets checks that every Vault path the Nomad job's templates read
// reaches the Kubernetes copy: synced by an ExternalSecret into a Secret
// with the keys the templates read, that the workload uses; or, with the
// agent injector, named by its pod template's annotations. Only key names
// are read and shown, never values.
func Secrets(ctx context.Context, in SecretsInput) GateCheck {
	c := GateCheck{ID: "secrets", Checked: "the Vault secrets the Nomad job's templates read exist for the Kubernetes copy of " + in.Service}
	if in.Job == nil {
		c.Status, c.Found, c.Next = Block, "the Nomad job was not read", "Check NOMAD_ADDR and NOMAD_TOKEN (nomad job inspect "+in.Service+" should answer)."
		return c
	}
	reads := NomadVaultReads(in.Job)
	if len(reads) == 0 {
		c.Status, c.Found = Pass, "the Nomad job's templates read no Vault secret"
		return c
	}
	mount := in.KVMount
	if mount == "" {
		mount = "nomad"
	}
	w, ok := workloadFor(ctx, in.Kube, in.Namespace, in.Service, &c)
	if !ok {
		return c
	}
	var r secretsReport
	if in.VaultMethod == "agent-injector" {
		r = injectorSecrets(reads, mount, w)
	} else {
		r = esoSecrets(ctx, in, reads, mount, w)
	}
	found := strings.Join(append(append(r.problems, r.unobserved...), append(r.warnings, r.ok...)...), "; ")
	switch {
	case r.err != nil:
		c.Status, c.Found, c.Next = Block, r.err.Error(), "Check the kubeconfig's access to ExternalSecrets and Secrets in "+in.Namespace+"."
	case len(r.problems) > 0:
		c.Status, c.Found = Block, found
		c.Next = r.next
	case len(r.unobserved) > 0:
		c.Status, c.Found = Unobservable, found
		c.Next = "No External Secrets controller has synced these here; on the real cluster kubectl -n " + in.Namespace + " describe externalsecret shows Vault's answer, or pass --accept-unobserved."
		if in.AcceptUnobserved {
			c.Status, c.Found = Warn, found+"; accepted unobserved (--accept-unobserved)"
		}
	case len(r.warnings) > 0:
		c.Status, c.Found = Warn, found
		c.Next = "The Nomad template reads every key of the path; make sure the Kubernetes copy needs only the keys it gets."
	default:
		c.Status, c.Found = Pass, found
	}
	return c
}

type secretsReport struct {
	ok, warnings, problems, unobserved []string
	next                               string
	err                                error
}

// esRef is one ExternalSecret's use of one Vault key.
type esRef struct {
	es        unstructured.Unstructured
	props     map[string]string // Vault property -> Secret key
	extracted bool              // dataFrom extract: every key, by its own name
}

func esoSecrets(ctx context.Context, in SecretsInput, reads []VaultRead, mount string, w *workload) secretsReport {
	var r secretsReport
	r.next = "Add an ExternalSecret (external-secrets.io/v1) in " + in.Namespace + " for each path named, mapping the keys the Nomad template reads, and reference its Secret from " + w.String() + " (the services stage does this for scaffolded services)."
	if in.Dynamic == nil {
		r.err = fmt.Errorf("no dynamic client to read ExternalSecrets")
		return r
	}
	list, err := in.Dynamic.Resource(gvrExternalSecrets).Namespace(in.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		r.err = fmt.Errorf("list ExternalSecrets (external-secrets.io/v1) in %s: %w", in.Namespace, err)
		return r
	}
	for _, read := range reads {
		key := vaultKey(read.Path, mount)
		var refs []esRef
		for _, es := range list.Items {
			ref := esRef{es: es, props: map[string]string{}}
			data, _, _ := unstructured.NestedSlice(es.Object, "spec", "data")
			for _, d := range data {
				m, _ := d.(map[string]any)
				k, _, _ := unstructured.NestedString(m, "remoteRef", "key")
				p, _, _ := unstructured.NestedString(m, "remoteRef", "property")
				sk, _ := m["secretKey"].(string)
				if vaultKey(k, mount) == key && p != "" {
					ref.props[p] = sk
				}
			}
			from, _, _ := unstructured.NestedSlice(es.Object, "spec", "dataFrom")
			for _, d := range from {
				m, _ := d.(map[string]any)
				if k, _, _ := unstructured.NestedString(m, "extract", "key"); vaultKey(k, mount) == key {
					ref.extracted = true
				}
			}
			if len(ref.props) > 0 || ref.extracted {
				refs = append(refs, ref)
			}
		}
		if len(refs) == 0 {
			r.problems = append(r.problems, fmt.Sprintf("Vault path %s (read by task %s) has no ExternalSecret in %s (remoteRef.key %s)", read.Path, strings.Join(read.Tasks, ", "), in.Namespace, key))
			continue
		}
		var missing []string
		for _, k := range read.Keys {
			if !slices.ContainsFunc(refs, func(x esRef) bool { _, ok := x.props[k]; return ok || x.extracted }) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			r.problems = append(r.problems, fmt.Sprintf("Vault path %s: keys %s read by the Nomad template are in no ExternalSecret", read.Path, strings.Join(missing, ", ")))
		}
		if read.AllKeys && !slices.ContainsFunc(refs, func(x esRef) bool { return x.extracted }) {
			r.warnings = append(r.warnings, fmt.Sprintf("Vault path %s: a Nomad template (of tasks %s) reads every key; the ExternalSecrets map only %s", read.Path, strings.Join(read.Tasks, ", "), strings.Join(propsOf(refs), ", ")))
		}
		for _, ref := range refs {
			esSynced(ctx, in, ref, read, w, &r)
		}
	}
	return r
}

func propsOf(refs []esRef) []string {
	var out []string
	for _, x := range refs {
		for p := range x.props {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// esSynced checks one ExternalSecret: synced, its Secret there with the
// keys, and used by the workload.
func esSynced(ctx context.Context, in SecretsInput, ref esRef, read VaultRead, w *workload, r *secretsReport) {
	name := ref.es.GetName()
	target, _, _ := unstructured.NestedString(ref.es.Object, "spec", "target", "name")
	if target == "" {
		target = name
	}
	st, reason, msg := esCondition(ref.es)
	switch {
	case st == "":
		r.unobserved = append(r.unobserved, fmt.Sprintf("ExternalSecret %s has no Ready condition (no External Secrets controller synced it)", name))
		return
	case st != "True":
		r.problems = append(r.problems, fmt.Sprintf("ExternalSecret %s not synced (Ready=%s %s: %s)", name, st, reason, msg))
		return
	}
	sec, err := in.Kube.CoreV1().Secrets(in.Namespace).Get(ctx, target, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		r.problems = append(r.problems, fmt.Sprintf("ExternalSecret %s says synced, but its Secret %s does not exist", name, target))
		return
	}
	if err != nil {
		r.err = fmt.Errorf("read Secret %s/%s: %w", in.Namespace, target, err)
		return
	}
	var absent []string
	for _, k := range read.Keys {
		sk, ok := ref.props[k]
		if !ok {
			if !ref.extracted {
				continue
			}
			sk = k
		}
		if _, ok := sec.Data[sk]; !ok {
			absent = append(absent, sk)
		}
	}
	if len(absent) > 0 {
		r.problems = append(r.problems, fmt.Sprintf("Secret %s (from ExternalSecret %s) lacks keys %s", target, name, strings.Join(absent, ", ")))
		return
	}
	if !checks.PodSpecUsesSecret(w.Template.Spec, target) {
		r.problems = append(r.problems, fmt.Sprintf("Secret %s is synced but %s does not reference it (env, envFrom or volume)", target, w))
		return
	}
	r.ok = append(r.ok, fmt.Sprintf("%s → ExternalSecret %s synced → Secret %s (%d keys) used by %s", read.Path, name, target, len(sec.Data), w))
}

func esCondition(u unstructured.Unstructured) (status, reason, message string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if t, _ := m["type"].(string); t == "Ready" {
			status, _ = m["status"].(string)
			reason, _ = m["reason"].(string)
			message, _ = m["message"].(string)
		}
	}
	return
}

// The agent injector's annotations (vault-k8s agent-inject-secret-<file>
// names a path; agent-inject-template-<file> renders it).
const (
	injectSecret   = "vault.hashicorp.com/agent-inject-secret-"
	injectTemplate = "vault.hashicorp.com/agent-inject-template-"
)

func injectorSecrets(reads []VaultRead, mount string, w *workload) secretsReport {
	var r secretsReport
	r.next = "Annotate " + w.String() + "'s pod template for the Vault injector (vault.hashicorp.com/agent-inject-secret-<file>: <path>, and a template reading the keys), as the services stage does."
	ann := w.Template.Annotations
	if ann["vault.hashicorp.com/agent-inject"] != "true" {
		r.problems = append(r.problems, w.String()+"'s pod template is not annotated vault.hashicorp.com/agent-inject: \"true\"")
		return r
	}
	for _, read := range reads {
		key := vaultKey(read.Path, mount)
		var files []string
		for a, v := range ann {
			if f, ok := strings.CutPrefix(a, injectSecret); ok && vaultKey(v, mount) == key {
				files = append(files, f)
			}
		}
		sort.Strings(files)
		if len(files) == 0 {
			r.problems = append(r.problems, fmt.Sprintf("Vault path %s (read by task %s) is named by no %s<file> annotation of %s", read.Path, strings.Join(read.Tasks, ", "), injectSecret, w))
			continue
		}
		// A file without a template gets the whole secret; with one, only
		// the keys it reads.
		var missing []string
		for _, k := range read.Keys {
			if !slices.ContainsFunc(files, func(f string) bool {
				t, ok := ann[injectTemplate+f]
				return !ok || strings.Contains(t, ".Data.data."+k)
			}) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			r.problems = append(r.problems, fmt.Sprintf("Vault path %s: the injector templates of %s read no %s", read.Path, w, strings.Join(missing, ", ")))
			continue
		}
		r.ok = append(r.ok, fmt.Sprintf("%s → injected as %s in %s", read.Path, strings.Join(files, ", "), w))
	}
	return r
}

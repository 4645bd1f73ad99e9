package scaffold

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Sentinels of the injector variant, made template references by literal.
const (
	roleSentinel = "@@vault_role@@"
	authSentinel = "@@auth_mount@@"
)

// annotationName is the longest name an annotation key may have after
// "vault.hashicorp.com/" (a qualified name's name part is at most 63
// characters); agent-inject-template-<file> is the longest key made.
const maxInjectFile = 63 - len("agent-inject-template-")

// annotationPart is what a qualified name's name part may be.
var annotationPart = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)

// knownEntrypoints are images' ENTRYPOINTs scaffold knows, for containers
// whose job sets args but no command (the Litestream image's is litestream).
var knownEntrypoints = map[string][]string{"litestream/litestream": {"litestream"}}

// injector builds, for each group that reads Vault, the pod spec and
// annotations of the agent-injector variant (vault_method =
// agent-injector): the same reads rendered by the Vault Agent injector
// instead of External Secrets. The external-secrets variant is g.podSpec.
func (m *model) injector() error {
	for _, g := range m.groups {
		var secs []secret
		for _, s := range m.secrets {
			if s.group == g.obj {
				secs = append(secs, s)
			}
		}
		if len(secs) == 0 {
			continue
		}
		spec, err := deepCopy(g.podSpec)
		if err != nil {
			return err
		}
		w := "group " + g.name
		ann := map[string]any{
			"vault.hashicorp.com/agent-inject": "true",
			"vault.hashicorp.com/role":         roleSentinel,
			"vault.hashicorp.com/auth-path":    "auth/" + authSentinel,
		}
		if _, ok := spec["initContainers"]; ok {
			// Init containers (a restore) read the secrets too.
			ann["vault.hashicorp.com/agent-init-first"] = "true"
		}
		if g.kind != "Deployment" {
			// A Job's pod ends when its containers do; a running agent
			// sidecar would keep it alive for ever.
			ann["vault.hashicorp.com/agent-pre-populate-only"] = "true"
		}
		envFiles := map[string][]string{} // container -> files to source
		for _, s := range secs {
			if len(s.file) > maxInjectFile || !annotationPart.MatchString(s.file) {
				m.no(w, "template "+s.name, fmt.Sprintf("with agent-injector: the file name %q cannot be part of an annotation key (at most %d letters, digits, '-', '_' or '.', starting and ending alphanumeric); write its annotations by hand", s.file, maxInjectFile))
				continue
			}
			if _, taken := ann["vault.hashicorp.com/agent-inject-secret-"+s.file]; taken {
				m.no(w, "template "+s.name, fmt.Sprintf("with agent-injector: a second template named %s in this pod; the injector keys files by name: write its annotations by hand", s.file))
				continue
			}
			ann["vault.hashicorp.com/agent-inject-secret-"+s.file] = s.keys[0].path
			if s.env {
				ann["vault.hashicorp.com/agent-inject-template-"+s.file] = exportTemplate(s.keys)
				envFiles[s.container] = append(envFiles[s.container], "/vault/secrets/"+s.file)
				dropEnvFrom(spec, s.container, s.name)
				continue
			}
			// The agent renders Nomad's own template (consul-template, as
			// Nomad does) into the directory the task read it from.
			ann["vault.hashicorp.com/agent-inject-template-"+s.file] = s.data
			ann["vault.hashicorp.com/secret-volume-path-"+s.file] = s.dir
			dropVolume(spec, s.volume)
		}
		for _, cn := range sortedKeys(envFiles) {
			if !wrapCommand(spec, cn, envFiles[cn]) {
				m.no(w+" task "+cn, "with agent-injector: env templates",
					fmt.Sprintf("the agent writes %s, but the job names no command and the image's entrypoint is not known: set command to /bin/sh -ec '. FILE && exec ENTRYPOINT \"$@\"' by hand", strings.Join(envFiles[cn], ", ")))
			}
		}
		spec["automountServiceAccountToken"] = true
		g.injSpec, g.injAnn = spec, ann
	}
	return nil
}

// exportTemplate is an env template as a file the shell sources: one
// export per key, single-quoted with any ' escaped (the repo's
// consul-template convention, modules-k8s/overseerr).
func exportTemplate(keys []secretKey) string {
	var b strings.Builder
	byPath := map[string][]secretKey{}
	for _, k := range keys {
		byPath[k.path] = append(byPath[k.path], k)
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		data := ".Data."
		if strings.Contains(p, "/data/") {
			data = ".Data.data." // KV v2
		}
		fmt.Fprintf(&b, "{{- with secret %q }}\n", p)
		for _, k := range byPath[p] {
			fmt.Fprintf(&b, "export %s='{{ %s%s | replaceAll \"'\" \"'\\\\''\" }}'\n", k.secretKey, data, k.property)
		}
		b.WriteString("{{- end }}\n")
	}
	return b.String()
}

func deepCopy(v map[string]any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(b, &out)
}

// containers lists the pod's containers and init containers (after deepCopy).
func containers(spec map[string]any) []map[string]any {
	var out []map[string]any
	for _, k := range []string{"initContainers", "containers"} {
		l, _ := spec[k].([]any)
		for _, c := range l {
			if cm, ok := c.(map[string]any); ok {
				out = append(out, cm)
			}
		}
	}
	return out
}

func container(spec map[string]any, name string) map[string]any {
	for _, c := range containers(spec) {
		if c["name"] == name {
			return c
		}
	}
	return nil
}

// dropEnvFrom removes the ESO Secret's envFrom from a container.
func dropEnvFrom(spec map[string]any, cn, secretName string) {
	c := container(spec, cn)
	if c == nil {
		return
	}
	l, _ := c["envFrom"].([]any)
	var keep []any
	for _, e := range l {
		if ref, _ := e.(map[string]any)["secretRef"].(map[string]any); ref != nil && ref["name"] == secretName {
			continue
		}
		keep = append(keep, e)
	}
	if len(keep) == 0 {
		delete(c, "envFrom")
	} else {
		c["envFrom"] = keep
	}
}

// dropVolume removes the ESO Secret's volume and its mounts: the
// injector mounts its own volume at that directory, and two mounts at
// one path are refused.
func dropVolume(spec map[string]any, vol string) {
	filter := func(l []any) []any {
		var keep []any
		for _, x := range l {
			if xm, _ := x.(map[string]any); xm == nil || xm["name"] != vol {
				keep = append(keep, x)
			}
		}
		return keep
	}
	if l, ok := spec["volumes"].([]any); ok {
		if k := filter(l); len(k) > 0 {
			spec["volumes"] = k
		} else {
			delete(spec, "volumes")
		}
	}
	for _, c := range containers(spec) {
		if l, ok := c["volumeMounts"].([]any); ok {
			if k := filter(l); len(k) > 0 {
				c["volumeMounts"] = k
			} else {
				delete(c, "volumeMounts")
			}
		}
	}
}

// wrapCommand makes a container source the agent's env files, then exec
// its own command; false when the command is not known.
func wrapCommand(spec map[string]any, cn string, files []string) bool {
	c := container(spec, cn)
	if c == nil {
		return false
	}
	cmd := anyStrings(c["command"])
	if len(cmd) == 0 {
		img, _ := c["image"].(string)
		repo, _, _ := strings.Cut(img, ":")
		cmd = knownEntrypoints[repo]
	}
	if len(cmd) == 0 {
		return false
	}
	var src []string
	for _, f := range files {
		src = append(src, ". "+f)
	}
	// sh -c SCRIPT ARG0 ARGS...: "$@" is the original command line.
	c["command"] = []any{"/bin/sh", "-ec", strings.Join(src, "\n") + "\nexec \"$@\"", "--"}
	var args []any
	for _, s := range append(cmd, anyStrings(c["args"])...) {
		args = append(args, s)
	}
	c["args"] = args
	return true
}

func anyStrings(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

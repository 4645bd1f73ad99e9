package scaffold

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// dockerKeys are the docker driver config keys task maps.
var dockerKeys = map[string]bool{"image": true, "args": true, "command": true, "entrypoint": true, "ports": true, "privileged": true}

// task maps one task onto a container (nil: not a docker task).
func (m *model) task(w string, t *api.Task, claims map[string]string, podVolumes *[]map[string]any, nodeSel map[string]any, runtime map[string]string) map[string]any {
	if t.Driver != "docker" && t.Driver != "podman" {
		m.no(w, "driver "+t.Driver, "only docker/podman tasks become containers; this task is not in the module")
		return nil
	}
	image, _ := t.Config["image"].(string)
	if image == "" {
		m.no(w, "config.image missing", "no image; the task is not in the module")
		return nil
	}
	c := map[string]any{"name": dnsLabel(t.Name), "image": image}
	m.curLS = isLitestream(image)
	if m.curLS && m.ls.image == "" {
		m.ls.image = image
	}
	m.ok(w, "image "+image, "image", "container "+dnsLabel(t.Name))
	if a := strList(t.Config["args"]); len(a) > 0 {
		c["args"] = a
		m.ok(w, "args", "args", "args")
	}
	var cmd []string
	if e := strList(t.Config["entrypoint"]); len(e) > 0 {
		cmd = e
	}
	if s, ok := t.Config["command"].(string); ok && s != "" {
		if cmd == nil {
			// docker's command replaces the image's CMD: it goes first in args.
			c["args"] = append([]string{s}, strList(t.Config["args"])...)
		} else {
			cmd = append(cmd, s)
		}
		m.ok(w, "command "+s, "args", "args[0]")
	}
	if cmd != nil {
		c["command"] = cmd
		m.ok(w, "entrypoint", "args", "command")
	}
	if p, ok := t.Config["privileged"].(bool); ok && p {
		c["securityContext"] = map[string]any{"privileged": true}
		m.ok(w, "privileged", "privileged", "securityContext.privileged")
	}
	for _, k := range sortedKeys(t.Config) {
		if !dockerKeys[k] {
			m.no(w, "config."+k, "docker driver option with no generated counterpart")
		}
	}
	for _, a := range strList(t.Config["args"]) {
		if strings.Contains(a, "NOMAD_") || strings.Contains(a, "${") {
			m.no(w, "args "+a, "uses Nomad's runtime variables, which Kubernetes does not set; fix it by hand")
		}
	}
	// The runtime variables scaffold sets (NOMAD_PORT_*, NOMAD_UPSTREAM_ADDR_*)
	// come first so that Kubernetes' $(VAR) expansion can use them.
	env := runtimeEnv(runtime)
	for _, k := range sortedKeys(t.Env) {
		v := t.Env[k]
		if r := interpolate(v, runtime); r != v && !strings.Contains(r, "${") {
			env = append(env, map[string]any{"name": k, "value": r})
			m.ok(w, "env "+k+"="+v, "env", "env "+k+"="+r+" (Kubernetes expands $(VAR))")
			continue
		}
		env = append(env, map[string]any{"name": k, "value": v})
		if strings.Contains(v, "${") || strings.Contains(v, "NOMAD_") {
			m.no(w, "env "+k+"="+v, "its value uses Nomad interpolation, kept literally; fix it by hand")
		}
	}
	if len(env) > 0 {
		c["env"] = env
		m.ok(w, fmt.Sprintf("env (%d)", len(env)), "env", "env")
	}
	if r := t.Resources; r != nil {
		req, lim := map[string]any{}, map[string]any{}
		if r.Cores != nil && *r.Cores > 0 {
			req["cpu"] = fmt.Sprint(*r.Cores)
			m.ok(w, fmt.Sprintf("cores = %d", *r.Cores), "resources", "requests.cpu")
		} else if r.CPU != nil && *r.CPU > 0 {
			req["cpu"] = fmt.Sprintf("%dm", *r.CPU)
			m.ok(w, fmt.Sprintf("cpu = %d", *r.CPU), "resources", "requests.cpu")
		}
		if r.MemoryMB != nil && *r.MemoryMB > 0 {
			req["memory"] = fmt.Sprintf("%dMi", *r.MemoryMB)
			lim["memory"] = fmt.Sprintf("%dMi", *r.MemoryMB)
			if r.MemoryMaxMB != nil && *r.MemoryMaxMB > *r.MemoryMB {
				lim["memory"] = fmt.Sprintf("%dMi", *r.MemoryMaxMB)
			}
			m.ok(w, fmt.Sprintf("memory = %d", *r.MemoryMB), "resources", "requests/limits.memory")
		}
		for _, d := range r.Devices {
			n := uint64(1)
			if d.Count != nil {
				n = *d.Count
			}
			name, sel := deviceResource(d.Name)
			if name == "" {
				m.no(w, "device "+d.Name, "no known device plugin resource for it")
				continue
			}
			lim[name] = fmt.Sprint(n)
			for k, v := range sel {
				nodeSel[k] = v
			}
			m.ok(w, fmt.Sprintf("device %s count %d", d.Name, n), "gpu", "limits."+name)
			if len(d.Constraints) > 0 || len(d.Affinities) > 0 {
				m.no(w, "device "+d.Name+" constraints", "device model constraints are not mapped")
			}
		}
		if len(req)+len(lim) > 0 {
			c["resources"] = map[string]any{"requests": req, "limits": lim}
		}
	}
	for _, c2 := range t.Constraints {
		if k, v, ok := constraint(c2); ok {
			nodeSel[k] = v
		}
		m.constraintNote(w, c2)
	}
	var mounts []map[string]any
	for _, vm := range t.VolumeMounts {
		vn := str(vm.Volume)
		suffix, ok := claims[vn]
		if !ok {
			m.no(w, "volume_mount "+vn, "the group has no such volume")
			continue
		}
		mt := map[string]any{"name": suffix, "mountPath": str(vm.Destination)}
		if vm.ReadOnly != nil && *vm.ReadOnly {
			mt["readOnly"] = true
		}
		mounts = append(mounts, mt)
		m.ok(w, "volume_mount "+vn+" at "+str(vm.Destination), "volume-mount", "volumeMount")
	}
	for i, tp := range t.Templates {
		if mt := m.template(w, t, i, tp, c, podVolumes); mt != nil {
			mounts = append(mounts, mt)
		}
	}
	if len(mounts) > 0 {
		c["volumeMounts"] = mounts
	}
	if t.KillTimeout != nil && *t.KillTimeout > 0 {
		m.ok(w, "kill_timeout "+t.KillTimeout.String(), "kill-timeout", "terminationGracePeriodSeconds (the pod's: the longest of its tasks)")
	}
	if t.Vault != nil {
		m.ok(w, "vault policies", "vault-env", "the ClusterSecretStore vault reads for this service")
	}
	if len(t.Artifacts) > 0 {
		m.no(w, fmt.Sprintf("%d artifacts", len(t.Artifacts)), "bake them into the image or an init container")
	}
	for _, s := range t.Services {
		m.no(w, "task service "+s.Name, "task-level services are not mapped; move them to the group")
	}
	return c
}

func strList(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		out = append(out, fmt.Sprint(x))
	}
	if s, ok := v.([]string); ok {
		return s
	}
	return out
}

// deviceResource names the extended resource and node labels of a Nomad
// device request (<vendor>/<type>[/<model>] or <type>).
func deviceResource(name string) (string, map[string]string) {
	parts := strings.Split(name, "/")
	switch {
	case len(parts) >= 2 && parts[0] == "nvidia" && parts[1] == "gpu", name == "gpu":
		// NVIDIA's device plugin advertises nvidia.com/gpu; the node label
		// nvidia.com/gpu.present=true is the one NVIDIA's GPU feature
		// discovery DaemonSet keys on (k8s-device-plugin v0.17.1
		// deployments/static/gpu-feature-discovery-daemonset.yaml).
		return "nvidia.com/gpu", map[string]string{"nvidia.com/gpu.present": "true"}
	case len(parts) >= 2 && parts[0] == "intel" && parts[1] == "gpu":
		// Intel's GPU plugin advertises gpu.intel.com/i915.
		return "gpu.intel.com/i915", map[string]string{"intel.feature.node.kubernetes.io/gpu": "true"}
	}
	return "", nil
}

var (
	secretRe = regexp.MustCompile(`secret\s+"([^"]+)"`)
	keyRe    = regexp.MustCompile(`\.Data(?:\.data)?\.([A-Za-z0-9_]+)`)
	// withEnd are the {{ with secret }} / {{ end }} actions around a line.
	withEnd  = regexp.MustCompile(`\{\{-?\s*(with\s+secret\s+"[^"]*"|end)\s*-?\}\}`)
	plainKey = regexp.MustCompile(`^\{\{-?\s*\.Data(?:\.data)?\.([A-Za-z0-9_]+)\s*-?\}\}$`)
	envLine  = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$`)
)

// template maps a Nomad template: secrets to an ExternalSecret, the rest to
// a ConfigMap; it returns the volume mount to add (nil for env templates).
func (m *model) template(w string, t *api.Task, i int, tp *api.Template, c map[string]any, podVolumes *[]map[string]any) map[string]any {
	data := str(tp.EmbeddedTmpl)
	dest := str(tp.DestPath)
	what := fmt.Sprintf("template %d -> %s", i, dest)
	if data == "" {
		m.no(w, what, "template with a source file instead of data; copy it into a ConfigMap by hand")
		return nil
	}
	name := dnsLabel(fmt.Sprintf("%s-%s-%d", m.svc, t.Name, i))
	isEnv := tp.Envvars != nil && *tp.Envvars
	paths := secretRe.FindAllStringSubmatch(data, -1)
	if len(paths) > 0 {
		sec := secret{name: name, group: m.cur.obj, container: dnsLabel(t.Name), env: isEnv, data: data}
		if isEnv {
			sec.file = fmt.Sprintf("%s-%d.env", dnsLabel(t.Name), i)
			for _, line := range strings.Split(data, "\n") {
				em := envLine.FindStringSubmatch(withEnd.ReplaceAllString(line, ""))
				if em == nil {
					continue
				}
				km := plainKey.FindStringSubmatch(strings.TrimSpace(em[2]))
				if km == nil {
					if strings.Contains(em[2], "{{") {
						m.no(w, what+" line "+em[1], "not a plain Vault read; set it by hand")
					} else {
						// A literal line of an env template is plain env.
						addEnv(c, map[string]string{em[1]: strings.TrimSpace(em[2])})
						m.ok(w, what+" line "+em[1], "env", "env "+em[1])
					}
					continue
				}
				p := lastSecretBefore(data, line)
				sec.keys = append(sec.keys, secretKey{secretKey: em[1], key: kvKey(p), property: km[1], path: p})
			}
		} else {
			for _, b := range secretBlocks(data) {
				for _, km := range keyRe.FindAllStringSubmatch(b.body, -1) {
					sec.keys = appendKey(sec.keys, secretKey{secretKey: km[1], key: kvKey(b.path), property: km[1], path: b.path})
				}
			}
		}
		if len(sec.keys) == 0 {
			m.no(w, what, "reads Vault but no .Data.data.KEY could be read out of it; write the ExternalSecret by hand")
			return nil
		}
		if m.curLS && isEnv {
			sec.keys = m.lsKeys(w, what, sec.keys)
		}
		if isEnv {
			m.secrets = append(m.secrets, sec)
			ef, _ := c["envFrom"].([]map[string]any)
			c["envFrom"] = append(ef, map[string]any{"secretRef": map[string]any{"name": name, "optional": true}})
			m.ok(w, what+" (env, Vault)", "vault-env", fmt.Sprintf("ExternalSecret %s (%d keys), envFrom; with agent-injector the agent writes /vault/secrets/%s, sourced before the command", name, len(sec.keys), sec.file))
			m.checkLeftover(w, what, data)
			return nil
		}
		vol := dnsLabel(fmt.Sprintf("tpl-%s-%d", t.Name, i))
		sec.file, sec.dir, sec.volume = path.Base(dest), mountDest(dest, true), vol
		m.secrets = append(m.secrets, sec)
		*podVolumes = append(*podVolumes, map[string]any{"name": vol, "secret": map[string]any{"secretName": name, "optional": true}})
		m.ok(w, what+" (file, Vault)", "vault-file", fmt.Sprintf("ExternalSecret %s (%d keys) mounted at %s; with agent-injector the agent renders the template itself at %s", name, len(sec.keys), path.Dir(dest), mountDest(dest, false)))
		m.no(w, what, "with external-secrets the file's own layout is not rebuilt: each Vault key is one file in "+path.Dir(dest)+"; add an ExternalSecret target template if the app needs the original file")
		return map[string]any{"name": vol, "mountPath": mountDest(dest, true), "readOnly": true}
	}
	if isEnv {
		m.no(w, what+" (env, no secret)", "env templates without Vault: turn the lines into env by hand")
		return nil
	}
	if m.curLS {
		data = m.lsConfig(w, what, data)
	}
	m.configs = append(m.configs, configFile{name: name, file: path.Base(dest), data: data})
	vol := dnsLabel(fmt.Sprintf("tpl-%s-%d", t.Name, i))
	*podVolumes = append(*podVolumes, map[string]any{"name": vol, "configMap": map[string]any{"name": name}})
	m.ok(w, what+" (no secret)", "configmap", "ConfigMap "+name+" at "+mountDest(dest, false))
	m.checkLeftover(w, what, data)
	return map[string]any{"name": vol, "mountPath": mountDest(dest, false), "subPath": path.Base(dest), "readOnly": true}
}

// mountDest makes a Nomad destination (relative to the task dir: local/,
// secrets/) absolute.
func mountDest(dest string, dir bool) string {
	if dir {
		dest = path.Dir(dest)
	}
	if !strings.HasPrefix(dest, "/") {
		dest = "/" + dest
	}
	return path.Clean(dest)
}

func (m *model) checkLeftover(w, what, data string) {
	for _, fn := range []string{"service ", "env ", "key ", "range ", "nomadVar"} {
		if strings.Contains(data, "{{ "+fn) || strings.Contains(data, "{{"+fn) {
			m.no(w, what, "uses consul-template "+strings.TrimSpace(fn)+": kept verbatim, Kubernetes does not render it")
		}
	}
}

type block struct{ path, body string }

// secretBlocks splits a template into its {{ with secret "p" }} parts.
func secretBlocks(data string) []block {
	idx := secretRe.FindAllStringSubmatchIndex(data, -1)
	var out []block
	for n, ix := range idx {
		end := len(data)
		if n+1 < len(idx) {
			end = idx[n+1][0]
		}
		out = append(out, block{path: data[ix[2]:ix[3]], body: data[ix[1]:end]})
	}
	return out
}

func lastSecretBefore(data, line string) string {
	at := strings.Index(data, line)
	all := secretRe.FindAllStringSubmatch(data[:at+len(line)], -1)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1][1]
}

// kvKey turns a Vault path as Nomad templates read it (mount/data/key for
// KV v2) into the ESO remoteRef key: the ClusterSecretStore vault carries
// the mount, as for overseerr.
func kvKey(p string) string {
	parts := strings.SplitN(p, "/", 3)
	if len(parts) == 3 && parts[1] == "data" {
		return parts[2]
	}
	if len(parts) >= 2 {
		return strings.Join(parts[1:], "/")
	}
	return p
}

func appendKey(ks []secretKey, k secretKey) []secretKey {
	for _, x := range ks {
		if x.secretKey == k.secretKey {
			return ks
		}
	}
	return append(ks, k)
}

var interp = regexp.MustCompile(`\$\{([A-Za-z0-9_.]+)\}`)

// interpolate turns ${NAME} of the runtime variables scaffold sets into
// Kubernetes' $(NAME), which the kubelet expands from env entries defined
// before it (k8s.io/api v0.34.3 core/v1 EnvVar.Value).
func interpolate(v string, runtime map[string]string) string {
	return interp.ReplaceAllStringFunc(v, func(s string) string {
		n := s[2 : len(s)-1]
		if _, ok := runtime[n]; ok {
			return "$(" + n + ")"
		}
		return s
	})
}

func runtimeEnv(runtime map[string]string) []map[string]any {
	var env []map[string]any
	for _, k := range sortedKeys(runtime) {
		env = append(env, map[string]any{"name": k, "value": runtime[k]})
	}
	return env
}

package scaffold

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// group maps one task group onto a workload.
func (m *model) group(tg *api.TaskGroup, first bool) {
	gname := str(tg.Name)
	w := "group " + gname
	g := &group{name: gname, obj: m.svc, main: len(m.groups) == 0, replicas: 1}
	if !g.main {
		g.obj = dnsLabel(m.svc + "-" + gname)
		m.ok(w, "task group "+gname, "groups", "workload "+g.obj)
	}
	g.kind = "Deployment"
	if str(m.job.Type) == "batch" {
		g.kind = "Job"
		if p := m.job.Periodic; p != nil && str(p.Spec) != "" {
			g.kind, g.cron, g.tz = "CronJob", str(p.Spec), str(p.TimeZone)
			g.noOverlap = p.ProhibitOverlap != nil && *p.ProhibitOverlap
		}
	}
	if tg.Count != nil {
		g.replicas = *tg.Count
		m.ok(w, fmt.Sprintf("count = %d", g.replicas), "count", fmt.Sprintf("replicas: %d", g.replicas))
	}
	nodeSel := map[string]any{}
	for _, c := range append(append([]*api.Constraint{}, m.job.Constraints...), tg.Constraints...) {
		if k, v, ok := constraint(c); ok {
			nodeSel[k] = v
		}
	}
	for _, c := range tg.Constraints {
		m.constraintNote(w, c)
	}

	// Ports: the group network's labels, the one behind the Traefik
	// router named http (the shared templates route to port http).
	httpLabel := ""
	for _, s := range tg.Services {
		if routerHost(s.Tags) != "" && s.PortLabel != "" {
			httpLabel = s.PortLabel
			break
		}
	}
	for _, s := range tg.Services {
		if httpLabel == "" && s.PortLabel != "" {
			httpLabel = s.PortLabel
		}
	}
	used := map[string]bool{}
	var ports []map[string]any
	dyn := 8000
	extraEnv := map[string]string{}
	for _, nw := range tg.Networks {
		if nw.Mode != "" && nw.Mode != "bridge" && nw.Mode != "host" {
			m.no(w, "network mode "+nw.Mode, "pods always have their own network namespace")
		}
		for _, p := range append(append([]api.Port{}, nw.ReservedPorts...), nw.DynamicPorts...) {
			n := p.To
			how := fmt.Sprintf("to = %d", p.To)
			if n <= 0 {
				n = p.Value
				how = fmt.Sprintf("static = %d", p.Value)
			}
			if n <= 0 {
				dyn++
				n = dyn
				how = "dynamic"
			}
			name := portName(p.Label)
			if p.Label == httpLabel {
				name = "http"
				g.httpPort = n
			} else if name == "http" || used[name] {
				name = portName(fmt.Sprintf("%s-%d", name, n))
			}
			used[name] = true
			ports = append(ports, map[string]any{"name": name, "containerPort": n, "protocol": "TCP"})
			g.ports = append(g.ports, port{name: name, port: n})
			res := fmt.Sprintf("containerPort %d named %s", n, name)
			extraEnv["NOMAD_PORT_"+p.Label] = fmt.Sprint(n)
			res += fmt.Sprintf("; NOMAD_PORT_%s=%d set for the app", p.Label, n)
			m.ok(w, fmt.Sprintf("port %s (%s)", p.Label, how), "ports", res)
			if p.Value > 0 && p.To > 0 {
				m.no(w, fmt.Sprintf("port %s static host port %d", p.Label, p.Value), "host ports are not kept; reach the Service or the IngressRoute")
			}
		}
		if nw.DNS != nil {
			m.no(w, "network dns", "pod DNS is the cluster's")
		}
	}

	// Services: Traefik routing, checks, Connect.
	var probes map[string]any
	for _, s := range tg.Services {
		sw := w + " service " + s.Name
		m.serviceTags(sw, s.Tags)
		for _, c := range s.Checks {
			if p := probe(c, s.PortLabel, g); p != nil && probes == nil {
				probes = p
				m.ok(sw, fmt.Sprintf("check %s %s %s", c.Type, c.Name, c.Path), "checks", "readinessProbe and livenessProbe")
			} else if p != nil {
				m.no(sw, fmt.Sprintf("check %s %s", c.Type, c.Name), "only the first check becomes the probes")
			} else {
				m.no(sw, fmt.Sprintf("check %s %s", c.Type, c.Name), "only http and tcp checks become probes")
			}
		}
		if s.Connect != nil {
			if s.Connect.Native {
				m.no(sw, "connect native", "Connect-native apps need the mesh's own client")
			}
			if ss := s.Connect.SidecarService; ss != nil && ss.Proxy != nil {
				for _, u := range ss.Proxy.Upstreams {
					m.upstream = append(m.upstream, dnsLabel(u.DestinationName))
					extraEnv["NOMAD_UPSTREAM_ADDR_"+strings.ReplaceAll(u.DestinationName, "-", "_")] = fmt.Sprintf("%s:%d", dnsLabel(u.DestinationName), u.LocalBindPort)
					m.ok(sw, fmt.Sprintf("upstream %s (local_bind_port %d)", u.DestinationName, u.LocalBindPort), "upstreams",
						fmt.Sprintf("mesh_upstreams output; NOMAD_UPSTREAM_ADDR_%s=%s:%d (the Service, assumed on the same port); the app's 127.0.0.1:%d no longer answers", u.DestinationName, dnsLabel(u.DestinationName), u.LocalBindPort, u.LocalBindPort))
				}
			}
		}
		if len(s.Meta) > 0 {
			m.no(sw, "service meta", "Consul service meta has no counterpart")
		}
	}

	// Volumes.
	claims := map[string]string{} // Nomad volume name -> pod volume name
	var podVolumes []map[string]any
	for _, vn := range sortedKeys(tg.Volumes) {
		v := tg.Volumes[vn]
		suffix := m.volumeSuffix(v)
		claim := dnsLabel(m.svc + "-" + suffix)
		access := "ReadWriteMany"
		if v.AccessMode == "single-node-writer" || v.AccessMode == "single-node-reader-only" {
			access = "ReadWriteOnce"
			g.rwo = true
		}
		dir := v.Source
		if dir == "" {
			dir = "glusterfs_" + strings.ReplaceAll(m.svc, "-", "_") + "_" + vn
		}
		id := "csi"
		if v.Type == "host" {
			id = "host-volume"
		} else if v.Type != "csi" {
			m.no(w, "volume "+vn+" type "+v.Type, "unknown volume type; made a claim like a CSI volume")
		}
		m.addVolume(volume{claim: claim, dir: dir, access: access, readOnly: v.ReadOnly})
		claims[vn] = suffix
		podVolumes = append(podVolumes, map[string]any{"name": suffix, "persistentVolumeClaim": map[string]any{"claimName": claim, "readOnly": v.ReadOnly}})
		m.ok(w, fmt.Sprintf("volume %s (%s %s)", vn, v.Type, v.Source), id, "PersistentVolumeClaim "+claim)
		if v.PerAlloc {
			m.no(w, "volume "+vn+" per_alloc", "one claim is shared by all replicas; use a StatefulSet for per-replica volumes")
		}
	}

	var containers, inits []map[string]any
	m.cur = g
	hasLS := false
	for _, t := range tg.Tasks {
		if img, _ := t.Config["image"].(string); isLitestream(img) && (t.Driver == "docker" || t.Driver == "podman") {
			hasLS = true
		}
		c := m.task(w+" task "+t.Name, t, claims, &podVolumes, nodeSel, extraEnv)
		if c == nil {
			continue
		}
		lc := t.Lifecycle
		switch {
		case lc == nil || lc.Hook == "":
			if len(containers) == 0 {
				if len(ports) > 0 {
					c["ports"] = ports
				}
				for k, v := range probes {
					c[k] = v
				}
			}
			containers = append(containers, c)
		case lc.Hook == "prestart" && !lc.Sidecar:
			inits = append(inits, c)
			m.ok(w+" task "+t.Name, "lifecycle prestart", "prestart", "initContainer "+t.Name)
		case (lc.Hook == "prestart" || lc.Hook == "poststart") && lc.Sidecar:
			// An init container with restartPolicy Always runs beside the
			// main containers for the pod's life (k8s.io/api v0.34.3
			// core/v1 Container.RestartPolicy, feature SidecarContainers).
			c["restartPolicy"] = "Always"
			inits = append(inits, c)
			m.ok(w+" task "+t.Name, "lifecycle "+lc.Hook+" sidecar", "sidecar", "native sidecar (initContainer with restartPolicy Always) "+t.Name)
		default:
			containers = append(containers, c)
			m.no(w+" task "+t.Name, "lifecycle "+lc.Hook, "no Kubernetes hook runs a container after start/stop; made an ordinary container")
		}
	}
	if len(containers) == 0 {
		if len(inits) == 0 {
			m.no(w, "task group "+gname, "no docker task: no workload made")
			return
		}
		m.no(w, "task group "+gname, "only lifecycle tasks; the last becomes the main container")
		containers, inits = inits[len(inits)-1:], inits[:len(inits)-1]
		delete(containers[0], "restartPolicy")
	}
	if hasLS {
		inits = m.seed(w, g, inits, &podVolumes)
	}
	if len(tg.Tasks) > 1 {
		m.ok(w, fmt.Sprintf("%d tasks", len(tg.Tasks)), "tasks", fmt.Sprintf("%d containers, %d init/sidecar containers", len(containers), len(inits)))
	}
	spec := map[string]any{
		"serviceAccountName":           g.obj,
		"automountServiceAccountToken": false,
		"containers":                   containers,
	}
	if len(inits) > 0 {
		spec["initContainers"] = inits
	}
	if len(podVolumes) > 0 {
		spec["volumes"] = podVolumes
	}
	if len(nodeSel) > 0 {
		spec["nodeSelector"] = nodeSel
	}
	if g.kind != "Deployment" {
		spec["restartPolicy"] = "OnFailure"
	}
	var grace int64
	for _, t := range tg.Tasks {
		if t.KillTimeout != nil && int64(t.KillTimeout.Seconds()) > grace {
			grace = int64(t.KillTimeout.Seconds())
		}
	}
	if grace > 0 {
		spec["terminationGracePeriodSeconds"] = grace
	}
	if tg.RestartPolicy != nil || tg.ReschedulePolicy != nil {
		m.no(w, "restart/reschedule", "Kubernetes restarts by its own policy (Always, or OnFailure for jobs)")
	}
	if tg.EphemeralDisk != nil && tg.EphemeralDisk.Migrate != nil && *tg.EphemeralDisk.Migrate {
		m.no(w, "ephemeral_disk migrate", "pod scratch space is not migrated")
	}
	g.podSpec = spec
	m.groups = append(m.groups, g)
}

func addEnv(c map[string]any, extra map[string]string) {
	if len(extra) == 0 {
		return
	}
	env, _ := c["env"].([]map[string]any)
	for _, k := range sortedKeys(extra) {
		env = append(env, map[string]any{"name": k, "value": extra[k]})
	}
	c["env"] = env
}

var hostRule = regexp.MustCompile("Host\\(`([^`]+)`")

func routerHost(tags []string) string {
	for _, t := range tags {
		if k, v, ok := strings.Cut(t, "="); ok && strings.HasPrefix(k, "traefik.http.routers.") && strings.HasSuffix(k, ".rule") {
			if mm := hostRule.FindStringSubmatch(v); mm != nil {
				return mm[1]
			}
		}
	}
	return ""
}

func (m *model) serviceTags(w string, tags []string) {
	for _, t := range tags {
		k, v, _ := strings.Cut(t, "=")
		switch {
		case k == "traefik.enable":
			m.ok(w, "tag "+t, "host", "the IngressRoute (ingress_mode)")
		case strings.HasPrefix(k, "traefik.http.routers.") && strings.HasSuffix(k, ".rule"):
			if mm := hostRule.FindStringSubmatch(v); mm != nil && m.host == "" {
				m.host = mm[1]
				m.ok(w, "tag "+t, "host", "variable host defaults to "+mm[1])
				if strings.Contains(v, "&&") || strings.Contains(v, "||") || len(hostRule.FindAllString(v, -1)) > 1 {
					m.no(w, "tag "+t, "only the first Host() of the rule is routed; the rest of the rule is not")
				}
			} else {
				m.no(w, "tag "+t, "only the first router's Host() rule is mapped")
			}
		case strings.HasPrefix(k, "traefik.http.routers.") && strings.HasSuffix(k, ".middlewares"):
			for _, mw := range strings.Split(v, ",") {
				if mw = strings.TrimSpace(mw); mw != "" {
					m.mws = append(m.mws, mw)
				}
			}
			m.ok(w, "tag "+t, "middlewares", "the IngressRoute's middlewares (those the job defines; the rest in the ingress_middlewares output)")
		case strings.HasPrefix(k, "traefik.http.middlewares."):
			m.middlewareTag(w, t, k, v)
		case strings.HasPrefix(k, "traefik.http.routers.") && (strings.HasSuffix(k, ".entrypoints") || strings.HasSuffix(k, ".tls") || strings.HasSuffix(k, ".tls.certresolver")):
			m.ok(w, "tag "+t, "host", "the IngressRoute uses websecure and the default TLSStore")
		default:
			m.no(w, "tag "+t, "Consul tag with no Kubernetes counterpart")
		}
	}
}

func probe(c api.ServiceCheck, svcPort string, g *group) map[string]any {
	pl := c.PortLabel
	if pl == "" {
		pl = svcPort
	}
	var target any = portName(pl)
	for _, p := range g.ports {
		if p.name == "http" && pl != "" && portName(pl) != "http" && pl == svcPort {
			target = "http"
		}
	}
	period := int(c.Interval.Seconds())
	if period < 1 {
		period = 10
	}
	timeout := int(c.Timeout.Seconds())
	if timeout < 1 {
		timeout = 1
	}
	var action map[string]any
	switch c.Type {
	case "http":
		p := c.Path
		if p == "" {
			p = "/"
		}
		action = map[string]any{"httpGet": map[string]any{"path": p, "port": target}}
	case "tcp":
		action = map[string]any{"tcpSocket": map[string]any{"port": target}}
	default:
		return nil
	}
	mk := func(extra int) map[string]any {
		pr := map[string]any{"periodSeconds": period * extra, "timeoutSeconds": timeout}
		for k, v := range action {
			pr[k] = v
		}
		return pr
	}
	return map[string]any{"readinessProbe": mk(1), "livenessProbe": mk(2)}
}

var portBad = regexp.MustCompile(`[^a-z0-9-]+`)

// portName makes a Nomad port label an IANA_SVC_NAME (at most 15
// characters, letters, digits and single hyphens, one letter at least).
func portName(l string) string {
	s := strings.Trim(portBad.ReplaceAllString(strings.ToLower(strings.ReplaceAll(l, "_", "-")), "-"), "-")
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	if len(s) > 15 {
		s = strings.TrimRight(s[:15], "-")
	}
	if !regexp.MustCompile(`[a-z]`).MatchString(s) {
		s = "p" + s
	}
	return s
}

func (m *model) addVolume(v volume) {
	for _, x := range m.volumes {
		if x.claim == v.claim {
			return
		}
	}
	m.volumes = append(m.volumes, v)
	sort.Slice(m.volumes, func(i, j int) bool { return m.volumes[i].claim < m.volumes[j].claim })
}

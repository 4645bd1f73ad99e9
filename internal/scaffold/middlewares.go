package scaffold

import (
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// A middleware the job defines in its own Consul tags
// (traefik.http.middlewares.<name>.<type>.<option>=<value>) becomes a
// Traefik Middleware object of the module, which the IngressRoute
// references when the router does. One defined elsewhere (@file: the
// Nomad side's Traefik file provider) cannot be made from the job; it is
// listed in the ingress_middlewares output instead.

// field is a Middleware CRD field (traefik.io/v1alpha1, Traefik 3.6) as the
// labels spell it in lower case: its CRD name and how its value reads.
type field struct {
	name string
	kind string // string, int, bool, list (comma-separated), map (one key per label)
}

// middlewareFields are the types and options scaffold maps; their values
// hold no secret (basicauth's users do, and are left to the operator).
var middlewareFields = map[string]struct {
	name   string
	fields map[string]field
}{
	"headers": {"headers", map[string]field{
		"customrequestheaders": {"customRequestHeaders", "map"}, "customresponseheaders": {"customResponseHeaders", "map"},
		"stsseconds": {"stsSeconds", "int"}, "stsincludesubdomains": {"stsIncludeSubdomains", "bool"}, "stspreload": {"stsPreload", "bool"},
		"forcestsheader": {"forceSTSHeader", "bool"}, "framedeny": {"frameDeny", "bool"}, "contenttypenosniff": {"contentTypeNosniff", "bool"},
		"browserxssfilter": {"browserXssFilter", "bool"}, "referrerpolicy": {"referrerPolicy", "string"},
		"contentsecuritypolicy": {"contentSecurityPolicy", "string"}, "customframeoptionsvalue": {"customFrameOptionsValue", "string"},
		"accesscontrolalloworiginlist": {"accessControlAllowOriginList", "list"}, "accesscontrolallowmethods": {"accessControlAllowMethods", "list"},
		"permissionspolicy": {"permissionsPolicy", "string"},
	}},
	"redirectscheme": {"redirectScheme", map[string]field{"scheme": {"scheme", "string"}, "permanent": {"permanent", "bool"}, "port": {"port", "string"}}},
	"redirectregex":  {"redirectRegex", map[string]field{"regex": {"regex", "string"}, "replacement": {"replacement", "string"}, "permanent": {"permanent", "bool"}}},
	"stripprefix":    {"stripPrefix", map[string]field{"prefixes": {"prefixes", "list"}}},
	"addprefix":      {"addPrefix", map[string]field{"prefix": {"prefix", "string"}}},
	"compress":       {"compress", map[string]field{}},
	"ratelimit":      {"rateLimit", map[string]field{"average": {"average", "int"}, "burst": {"burst", "int"}, "period": {"period", "string"}}},
	"ipallowlist":    {"ipAllowList", map[string]field{"sourcerange": {"sourceRange", "list"}}},
	"forwardauth": {"forwardAuth", map[string]field{"address": {"address", "string"}, "trustforwardheader": {"trustForwardHeader", "bool"},
		"authresponseheaders": {"authResponseHeaders", "list"}, "authrequestheaders": {"authRequestHeaders", "list"}}},
}

// mwDef is one middleware of the job's tags.
type mwDef struct {
	typ  string // CRD field of the type
	spec map[string]any
	bad  bool // an option could not be mapped: the object is not made
}

// middlewareTag maps traefik.http.middlewares.<name>.<type>[.<option>...]=v.
func (m *model) middlewareTag(w, tag, key, v string) {
	parts := strings.Split(strings.TrimPrefix(key, "traefik.http.middlewares."), ".")
	if len(parts) < 2 {
		m.no(w, "tag "+tag, "a middleware tag without a type")
		return
	}
	name, typ := parts[0], strings.ToLower(parts[1])
	if m.mwDefs == nil {
		m.mwDefs = map[string]*mwDef{}
	}
	t, ok := middlewareFields[typ]
	d := m.mwDefs[name]
	if d == nil {
		d = &mwDef{typ: t.name, spec: map[string]any{}}
		m.mwDefs[name] = d
	}
	if !ok || (d.typ != t.name) {
		d.bad = true
		m.no(w, "tag "+tag, "middleware type "+typ+" is not generated (secrets, or no fixed shape): make the Middleware by hand")
		return
	}
	if len(parts) == 2 {
		// traefik.http.middlewares.x.compress=true: the type alone.
		m.ok(w, "tag "+tag, "middlewares", "Middleware "+m.mwName(name))
		return
	}
	f, ok := t.fields[strings.ToLower(parts[2])]
	if !ok || (f.kind == "map") != (len(parts) == 4) || len(parts) > 4 {
		d.bad = true
		m.no(w, "tag "+tag, "middleware option "+strings.Join(parts[2:], ".")+" is not generated: make the Middleware by hand")
		return
	}
	var val any = v
	switch f.kind {
	case "int":
		n, err := strconv.Atoi(v)
		if err != nil {
			d.bad = true
			m.no(w, "tag "+tag, "not a number: make the Middleware by hand")
			return
		}
		val = n
	case "bool":
		val = strings.EqualFold(v, "true")
	case "list":
		var l []string
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				l = append(l, x)
			}
		}
		val = l
	case "map":
		mp, _ := d.spec[f.name].(map[string]any)
		if mp == nil {
			mp = map[string]any{}
		}
		// Header names keep the case the tag wrote.
		mp[parts[3]] = v
		val = mp
	}
	d.spec[f.name] = val
	m.ok(w, "tag "+tag, "middlewares", "Middleware "+m.mwName(name)+" "+t.name+"."+f.name)
}

// mwName is the Middleware object's name: the job's name for it, under the
// service's name (middlewares are namespaced, and the namespace is shared).
func (m *model) mwName(name string) string { return dnsLabel(m.svc + "-" + name) }

// resolveMiddlewares splits the router's middlewares into the ones the
// module makes (IngressRoute references) and the rest (listed).
func (m *model) resolveMiddlewares() {
	for _, ref := range m.mws {
		base, provider, _ := strings.Cut(ref, "@")
		d := m.mwDefs[base]
		local := provider == "" || provider == "consulcatalog" || provider == "nomad"
		switch {
		case local && d != nil && !d.bad:
			m.mwRefs = append(m.mwRefs, m.mwName(base))
			m.ok("ingress", "router middleware "+ref, "middlewares", "IngressRoute middleware "+m.mwName(base))
		case local && d != nil:
			m.mwOther = append(m.mwOther, ref)
		default:
			m.mwOther = append(m.mwOther, ref)
			m.no("ingress", "router middleware "+ref, "defined outside the job (Traefik's "+orStr(provider, "own")+" provider): not made, not referenced; make a Middleware and add it to the IngressRoute by hand (ingress_middlewares output)")
		}
	}
}

func orStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// middlewaresYAML renders the job's middlewares as Middleware objects.
func (m *model) middlewaresYAML() (string, error) {
	var docs []string
	for _, name := range sortedKeys(m.mwDefs) {
		d := m.mwDefs[name]
		if d.bad {
			continue
		}
		obj := map[string]any{"apiVersion": "traefik.io/v1alpha1", "kind": "Middleware",
			"metadata": map[string]any{"name": m.mwName(name), "namespace": sentinel, "labels": m.podLabels(m.svc)},
			"spec":     map[string]any{d.typ: d.spec}}
		b, err := yaml.Marshal(obj)
		if err != nil {
			return "", err
		}
		docs = append(docs, string(b))
	}
	if len(docs) == 0 {
		return "", nil
	}
	return esc(fmt.Sprintf("# The Traefik middlewares job %s defines in its Consul tags.\n", oneLine(str(m.job.Name)))) + literal(docs), nil
}

// Package traefikroute makes the traffic switch of a cutover: the external
// Traefik (Docker on Hestia) keeps the domain, and one file-provider file
// per service sends that service's host to the K3s ingress. Rollback is the
// file's removal, so Traefik falls back to the Consul catalog's router of
// the Nomad job. Only the service's own file is ever written or removed:
// the directory holds the operator's other dynamic configuration.
package traefikroute

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Route is one service's route to Kubernetes.
type Route struct {
	Service string // DNS label: names the file, router, service and transport
	Host    string // whoami.brmartin.co.uk
	// Backends are host:port of the K3s ingress (the Traefik NodePort
	// traefik_https_node_port on each node).
	Backends []string
	// EntryPoints of the external Traefik the router listens on; default
	// websecure.
	EntryPoints []string
	// CertResolver the router's TLS uses; "" uses Traefik's default
	// certificate (the wildcard in its default TLS store).
	CertResolver string
	// Scheme of the backends: https (default; the K3s Traefik's websecure
	// NodePort, verified against Host) or http.
	Scheme string
	// BackendRootCAs are CA files, as paths on the external Traefik's host,
	// the K3s ingress's certificate must chain to; none means the system
	// roots (enough for the ACME wildcard).
	BackendRootCAs []string
}

// Header is the response header the route adds: an answer carrying it went
// through this route, so to the Kubernetes backends and nowhere else.
const Header = "X-Migrate-Tui-Route"

// Priority beats the Consul catalog router of the same host (Traefik's
// default priority is the rule's length), so the switch takes effect while
// the Nomad job still runs, and removing the file hands the host back.
const Priority = 100000

var (
	label    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	hostname = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// Name is the router, service, middleware and transport name.
func (r Route) Name() string { return r.Service + "-k8s" }

// FileName is the route's file in Traefik's watched directory: the prefix
// keeps it apart from the operator's own files.
func FileName(service string) string { return "migrate-tui-" + service + ".yml" }

// marker opens every file migrate-tui writes; a file without it is the
// operator's, and migrate-tui neither replaces nor removes it.
func marker(service string) string { return "# migrate-tui route: " + service + "\n" }

// Validate refuses what would give a wrong or unsafe file.
func (r Route) Validate() error {
	var errs []error
	if !label.MatchString(r.Service) {
		errs = append(errs, fmt.Errorf("service %q is not a DNS label (a-z, 0-9, -)", r.Service))
	}
	if !hostname.MatchString(r.Host) {
		errs = append(errs, fmt.Errorf("host %q is not a host name (e.g. %s.brmartin.co.uk)", r.Host, r.Service))
	}
	if len(r.Backends) == 0 {
		errs = append(errs, errors.New("no backend: set the nodes and traefik_https_node_port in terraform.tfvars"))
	}
	for _, b := range r.Backends {
		h, p, err := net.SplitHostPort(b)
		n, perr := strconv.Atoi(p)
		if err != nil || h == "" || perr != nil || n < 1 || n > 65535 || strings.ContainsAny(h, "/ `'\"") {
			errs = append(errs, fmt.Errorf("backend %q is not host:port", b))
		}
	}
	for _, e := range r.EntryPoints {
		if !label.MatchString(strings.ToLower(e)) {
			errs = append(errs, fmt.Errorf("entrypoint %q is not a Traefik entrypoint name", e))
		}
	}
	switch r.Scheme {
	case "", "https", "http":
	default:
		errs = append(errs, fmt.Errorf("scheme %q: the K3s ingress is reached over https or http", r.Scheme))
	}
	return errors.Join(errs...)
}

type dynamic struct {
	HTTP httpConf `json:"http"`
}

type httpConf struct {
	Routers           map[string]router     `json:"routers"`
	Middlewares       map[string]middleware `json:"middlewares"`
	Services          map[string]service    `json:"services"`
	ServersTransports map[string]transport  `json:"serversTransports,omitempty"`
}

type router struct {
	Rule        string     `json:"rule"`
	EntryPoints []string   `json:"entryPoints"`
	Priority    int        `json:"priority"`
	Service     string     `json:"service"`
	Middlewares []string   `json:"middlewares"`
	TLS         *routerTLS `json:"tls,omitempty"`
}

type routerTLS struct {
	CertResolver string `json:"certResolver,omitempty"`
}

type middleware struct {
	Headers struct {
		CustomResponseHeaders map[string]string `json:"customResponseHeaders"`
	} `json:"headers"`
}

type service struct {
	LoadBalancer struct {
		PassHostHeader   bool     `json:"passHostHeader"`
		ServersTransport string   `json:"serversTransport,omitempty"`
		Servers          []server `json:"servers"`
	} `json:"loadBalancer"`
}

type server struct {
	URL string `json:"url"`
}

type transport struct {
	ServerName string   `json:"serverName"`
	RootCAs    []string `json:"rootCAs,omitempty"`
}

// Render is the file's content: Traefik v3 file-provider dynamic
// configuration (YAML) after the ownership marker.
func (r Route) Render() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("route for %s: %w", r.Service, err)
	}
	name := r.Name()
	eps := r.EntryPoints
	if len(eps) == 0 {
		eps = []string{"websecure"}
	}
	scheme := r.Scheme
	if scheme == "" {
		scheme = "https"
	}
	var mw middleware
	mw.Headers.CustomResponseHeaders = map[string]string{Header: name}
	var svc service
	svc.LoadBalancer.PassHostHeader = true
	for _, b := range r.Backends {
		svc.LoadBalancer.Servers = append(svc.LoadBalancer.Servers, server{URL: scheme + "://" + b})
	}
	h := httpConf{
		Routers: map[string]router{name: {
			Rule: "Host(`" + r.Host + "`)", EntryPoints: eps, Priority: Priority,
			Service: name, Middlewares: []string{name}, TLS: &routerTLS{CertResolver: r.CertResolver},
		}},
		Middlewares: map[string]middleware{name: mw},
	}
	if scheme == "https" {
		// The K3s Traefik serves the wildcard for the service's host; the
		// external Traefik checks it against that name, not the node's.
		svc.LoadBalancer.ServersTransport = name
		h.ServersTransports = map[string]transport{name: {ServerName: r.Host, RootCAs: r.BackendRootCAs}}
	}
	h.Services = map[string]service{name: svc}
	body, err := yaml.Marshal(dynamic{HTTP: h})
	if err != nil {
		return nil, fmt.Errorf("route for %s: %w", r.Service, err)
	}
	head := marker(r.Service) + fmt.Sprintf("# Sends %s to the Kubernetes copy. migrate-tui cutover --rollback removes this file; Traefik then routes %s from the Consul catalog again.\n", r.Host, r.Host)
	return append([]byte(head), body...), nil
}

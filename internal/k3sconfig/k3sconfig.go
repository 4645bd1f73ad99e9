// Package k3sconfig renders the K3s installation of every node from the
// wizard's decisions: config.yaml, install.sh and uninstall.sh, from the
// templates in k8s/cluster. The first server initialises the embedded etcd
// cluster; the others join as servers or agents by the control-plane
// topology. Nothing secret is rendered: the join token is a file the caller
// writes on each node before running install.sh.
package k3sconfig

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"migrate-tui/k8s/cluster"
)

// DefaultInstallerURL is K3s's own installer.
const DefaultInstallerURL = "https://get.k3s.io"

// TokenFile is where the caller writes the cluster join token (0600), on
// servers only: it lets a node join as a server (etcd, CA keys).
const TokenFile = "/etc/rancher/k3s/cluster-token"

// AgentTokenFile is where the caller writes the agent token (0600): servers
// read it as agent-token-file, agents join with it as their token-file. K3s
// accepts it for agents only (k3s-io/k3s pkg/cli/server/server.go reads
// AgentTokenFile into ControlConfig.AgentToken; docs.k3s.io/cli/server lists
// agent-token among the values every server must share), so an agent's disk
// never holds the token that can join a server.
const AgentTokenFile = "/etc/rancher/k3s/agent-token"

// ManifestsDir is K3s's auto-deploy directory on servers: every file there is
// applied like kubectl apply at start and whenever it changes
// (docs.k3s.io/installation/packaged-components).
const ManifestsDir = "/var/lib/rancher/k3s/server/manifests"

// CiliumManifestPath is where the first server gets the Cilium HelmChart.
const CiliumManifestPath = ManifestsDir + "/migrate-tui-cilium.yaml"

// CiliumChartVersion is the Cilium chart the cluster installs (in step with
// CILIUM_VERSION in hack/versions.env, whose CRDs the test world serves).
const CiliumChartVersion = "1.18.2"

// Topologies, as in variables.tf's control_plane_topology.
const (
	TopologyHA         = "ha-3-servers"
	TopologyOneServer  = "1-server-2-agents"
	RoleServerInit     = "server-init"
	RoleServer         = "server"
	RoleAgent          = "agent"
	meshCilium         = "cilium"
	nodeLabelPrefix    = "migrate-tui.io/"
	apiPort            = 6443
	clusterDNSHostPart = 10
)

// Node is one entry of variables.tf's nodes.
type Node struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Arch    string `json:"arch"`
	Role    string `json:"role"` // server or agent
}

// Decisions are the variables.tf values the cluster stage needs.
type Decisions struct {
	Topology       string   // control_plane_topology
	K3sVersion     string   // k3s_version
	Nodes          []Node   // nodes
	ClusterCIDR    string   // cluster_cidr
	ServiceCIDR    string   // service_cidr
	NodePortRange  string   // node_port_range
	Disable        []string // k3s_disable
	SystemReserved string   // system_reserved
	KubeReserved   string   // kube_reserved
	ServiceMesh    string   // service_mesh: cilium replaces flannel and kube-proxy
	CiliumIPAMMode string   // cilium_ipam_mode: kubernetes or cluster-pool
	CiliumPoolCIDR string   // cilium_pool_cidr (cluster-pool only)
	// InstallerURL is the K3s installer (DefaultInstallerURL when empty): an
	// http(s) URL or an absolute path on the node. K3S_INSTALLER_URL in the
	// environment of install.sh overrides it again.
	InstallerURL string
}

// Defaults are variables.tf's defaults (a test keeps them in step).
func Defaults() Decisions {
	return Decisions{
		Topology:   TopologyHA,
		K3sVersion: "v1.34.3+k3s1",
		Nodes: []Node{
			{Name: "hestia", Address: "192.168.1.5", Arch: "amd64", Role: RoleServer},
			{Name: "heracles", Address: "192.168.1.6", Arch: "arm64", Role: RoleServer},
			{Name: "nyx", Address: "192.168.1.7", Arch: "arm64", Role: RoleServer},
		},
		ClusterCIDR:    "10.42.0.0/16",
		ServiceCIDR:    "10.43.0.0/16",
		NodePortRange:  "32001-32767",
		Disable:        []string{"traefik", "servicelb"},
		SystemReserved: "cpu=250m,memory=512Mi",
		KubeReserved:   "cpu=250m,memory=512Mi",
		ServiceMesh:    meshCilium,
		CiliumIPAMMode: "kubernetes",
		CiliumPoolCIDR: "10.44.0.0/16",
	}
}

// NodeFiles is what one node gets.
type NodeFiles struct {
	Node      Node
	Role      string // server-init, server or agent
	Config    []byte // /etc/rancher/k3s/config.yaml (install.sh writes it too)
	Install   []byte // install.sh: run as root after writing the token files
	Uninstall []byte // uninstall.sh
	// Manifests go into the node's auto-deploy directory before install.sh
	// runs (the first server only: the Cilium HelmChart when service_mesh
	// is cilium), so K3s applies them as it starts.
	Manifests []Manifest
}

// Manifest is one file for a server's auto-deploy directory.
type Manifest struct {
	Path string // absolute, under ManifestsDir
	Body []byte
}

// Tokens are the token files a node of this role needs, in the order they
// are written: servers both, agents only the agent token.
func (f NodeFiles) Tokens() []string {
	if f.Role == RoleAgent {
		return []string{AgentTokenFile}
	}
	return []string{TokenFile, AgentTokenFile}
}

var (
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	hostName     = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$`)
	k3sVersion   = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+\+k3s[0-9]+$`)
	reservedSpec = regexp.MustCompile(`^[a-z-]+=[0-9]+[a-zA-Z]*(,[a-z-]+=[0-9]+[a-zA-Z]*)*$`)
	// No quotes, spaces, $ or backticks: the URL is placed in a shell script.
	installerURL = regexp.MustCompile(`^(https?://[A-Za-z0-9.:-]+(/[A-Za-z0-9._~/%+-]*)?|/[A-Za-z0-9._/+-]+)$`)
	disableable  = []string{"traefik", "servicelb", "local-storage", "metrics-server", "coredns"}
)

// Validate checks the decisions the way variables.tf and main.tf do, and
// says what was wrong and what to change.
func (d Decisions) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if d.Topology != TopologyHA && d.Topology != TopologyOneServer {
		add("control_plane_topology %q: must be %s or %s", d.Topology, TopologyHA, TopologyOneServer)
	}
	if !k3sVersion.MatchString(d.K3sVersion) {
		add("k3s_version %q: must look like v1.34.3+k3s1", d.K3sVersion)
	}
	if len(d.Nodes) == 0 {
		add("nodes: empty; list at least one node")
	}
	servers := 0
	seen := map[string]bool{}
	for _, n := range d.Nodes {
		if !dnsLabel.MatchString(n.Name) {
			add("node %q: name must be a DNS label", n.Name)
		}
		if seen[n.Name] {
			add("node %q: listed twice", n.Name)
		}
		seen[n.Name] = true
		if _, err := netip.ParseAddr(n.Address); err != nil && !hostName.MatchString(n.Address) {
			add("node %s: address %q is neither an IP address nor a host name", n.Name, n.Address)
		}
		if n.Arch != "amd64" && n.Arch != "arm64" {
			add("node %s: arch %q must be amd64 or arm64", n.Name, n.Arch)
		}
		switch n.Role {
		case RoleServer:
			servers++
		case RoleAgent:
		default:
			add("node %s: role %q must be server or agent", n.Name, n.Role)
		}
	}
	switch {
	case len(d.Nodes) == 0:
	case d.Topology == TopologyHA && (servers < 3 || servers%2 == 0):
		add("control_plane_topology %s needs an odd number (3 or more) of servers for etcd quorum; nodes has %d. Set role = \"server\" on 3 nodes or choose %s", TopologyHA, servers, TopologyOneServer)
	case d.Topology == TopologyOneServer && servers != 1:
		add("control_plane_topology %s needs exactly one server; nodes has %d. Set role = \"agent\" on all but one node", TopologyOneServer, servers)
	}

	cidrs := map[string]netip.Prefix{}
	for name, s := range map[string]string{"cluster_cidr": d.ClusterCIDR, "service_cidr": d.ServiceCIDR} {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			add("%s %q: not a CIDR (%v)", name, s, err)
			continue
		}
		cidrs[name] = p.Masked()
	}
	if c, ok := cidrs["cluster_cidr"]; ok {
		if s, ok := cidrs["service_cidr"]; ok && c.Overlaps(s) {
			add("cluster_cidr %s and service_cidr %s overlap; pick disjoint ranges", c, s)
		}
	}
	if _, _, err := parseRange(d.NodePortRange); err != nil {
		add("node_port_range: %v", err)
	}
	for _, c := range d.Disable {
		if !slices.Contains(disableable, c) {
			add("k3s_disable %q: K3s can disable only %s", c, strings.Join(disableable, ", "))
		}
	}
	if !reservedSpec.MatchString(d.SystemReserved) {
		add("system_reserved %q: must look like cpu=250m,memory=512Mi", d.SystemReserved)
	}
	if !reservedSpec.MatchString(d.KubeReserved) {
		add("kube_reserved %q: must look like cpu=250m,memory=512Mi", d.KubeReserved)
	}
	if d.ServiceMesh == meshCilium {
		if d.CiliumIPAMMode != "kubernetes" && d.CiliumIPAMMode != "cluster-pool" {
			add("cilium_ipam_mode %q: must be kubernetes or cluster-pool", d.CiliumIPAMMode)
		}
		if p, err := netip.ParsePrefix(d.CiliumPoolCIDR); d.CiliumIPAMMode == "cluster-pool" && err != nil {
			add("cilium_pool_cidr %q: not a CIDR (%v)", d.CiliumPoolCIDR, err)
		} else if d.CiliumIPAMMode == "cluster-pool" {
			for _, name := range []string{"cluster_cidr", "service_cidr"} {
				if c, ok := cidrs[name]; ok && c.Overlaps(p.Masked()) {
					add("cilium_pool_cidr %s overlaps %s %s; pick a pool outside both K3s CIDRs", d.CiliumPoolCIDR, name, c)
				}
			}
		}
	}
	if d.InstallerURL != "" && !installerURL.MatchString(d.InstallerURL) {
		add("installer URL %q: must be an http(s) URL or an absolute path without spaces, quotes or $", d.InstallerURL)
	}
	return errors.Join(errs...)
}

func parseRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if ok {
		lo, err = strconv.Atoi(a)
		if err == nil {
			hi, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || lo < 1 || hi > 65535 || lo >= hi {
		return 0, 0, fmt.Errorf("%q must be LOW-HIGH with 1 <= LOW < HIGH <= 65535", s)
	}
	return lo, hi, nil
}

// clusterDNS is the tenth address of the service CIDR, K3s's convention.
func clusterDNS(serviceCIDR string) (string, error) {
	p, err := netip.ParsePrefix(serviceCIDR)
	if err != nil {
		return "", err
	}
	a := p.Masked().Addr()
	for range clusterDNSHostPart {
		a = a.Next()
	}
	if !p.Contains(a) {
		return "", fmt.Errorf("service_cidr %s is too small for the cluster DNS address", serviceCIDR)
	}
	return a.String(), nil
}

// view is what the templates see.
type view struct {
	Node                         Node
	Role, Exec, Unit             string
	IsServer, HA, Cilium         bool
	ServerURL, TokenFile         string
	AgentTokenFile               string
	K3sVersion, InstallerURL     string
	NodeLabels, TLSSANs          []string
	ClusterCIDR, ServiceCIDR     string
	ClusterDNS, NodePortRange    string
	Disable                      []string
	SystemReserved, KubeReserved string
	UninstallScript              string
	ConfigYAML                   string
}

var templates = template.Must(template.New("k3s").Funcs(template.FuncMap{
	"quote": strconv.Quote, // a JSON-style string is a valid YAML double-quoted scalar
	"sq":    shellQuote,
}).ParseFS(cluster.Templates, "*.tmpl"))

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Render renders every node's files, in the order the nodes must be
// installed: the first server, then the other servers, then the agents.
func Render(d Decisions) ([]NodeFiles, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("k3s configuration not rendered: %w", err)
	}
	dns, err := clusterDNS(d.ServiceCIDR)
	if err != nil {
		return nil, err
	}
	installer := d.InstallerURL
	if installer == "" {
		installer = DefaultInstallerURL
	}
	var first Node
	for _, n := range d.Nodes {
		if n.Role == RoleServer {
			first = n
			break
		}
	}
	var sans []string
	for _, n := range d.Nodes {
		if n.Role == RoleServer {
			sans = append(sans, n.Address, n.Name)
		}
	}
	disable := slices.Clone(d.Disable)
	slices.Sort(disable)
	disable = slices.Compact(disable)

	ordered := slices.Clone(d.Nodes)
	rank := func(n Node) int {
		switch {
		case n.Name == first.Name:
			return 0
		case n.Role == RoleServer:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(ordered, func(a, b Node) int { return rank(a) - rank(b) })

	out := make([]NodeFiles, 0, len(ordered))
	for _, n := range ordered {
		v := view{
			Node:           n,
			IsServer:       n.Role == RoleServer,
			HA:             d.Topology == TopologyHA,
			Cilium:         d.ServiceMesh == meshCilium,
			ServerURL:      fmt.Sprintf("https://%s:%d", first.Address, apiPort),
			TokenFile:      TokenFile,
			AgentTokenFile: AgentTokenFile,
			K3sVersion:     d.K3sVersion,
			InstallerURL:   installer,
			NodeLabels:     []string{nodeLabelPrefix + "node=" + n.Name, nodeLabelPrefix + "role=" + n.Role},
			TLSSANs:        sans,
			ClusterCIDR:    d.ClusterCIDR,
			ServiceCIDR:    d.ServiceCIDR,
			ClusterDNS:     dns,
			NodePortRange:  d.NodePortRange,
			Disable:        disable,
			SystemReserved: d.SystemReserved,
			KubeReserved:   d.KubeReserved,
		}
		switch {
		case n.Name == first.Name:
			v.Role, v.Exec, v.Unit, v.UninstallScript = RoleServerInit, "server", "k3s", "/usr/local/bin/k3s-uninstall.sh"
		case n.Role == RoleServer:
			v.Role, v.Exec, v.Unit, v.UninstallScript = RoleServer, "server", "k3s", "/usr/local/bin/k3s-uninstall.sh"
		default:
			v.Role, v.Exec, v.Unit, v.UninstallScript = RoleAgent, "agent", "k3s-agent", "/usr/local/bin/k3s-agent-uninstall.sh"
		}
		files := NodeFiles{Node: n, Role: v.Role}
		if files.Config, err = execute("config.yaml.tmpl", n.Name, v); err != nil {
			return nil, err
		}
		v.ConfigYAML = string(files.Config)
		if files.Install, err = execute("install.sh.tmpl", n.Name, v); err != nil {
			return nil, err
		}
		if files.Uninstall, err = execute("uninstall.sh.tmpl", n.Name, v); err != nil {
			return nil, err
		}
		if v.Role == RoleServerInit && v.Cilium {
			body, err := CiliumHelmChart(d)
			if err != nil {
				return nil, err
			}
			files.Manifests = append(files.Manifests, Manifest{Path: CiliumManifestPath, Body: body})
		}
		out = append(out, files)
	}
	return out, nil
}

func execute(name, who string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("render %s for %s: %w", name, who, err)
	}
	out := bytes.TrimLeft(b.Bytes(), "\n")
	if !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out, '\n')
	}
	return out, nil
}

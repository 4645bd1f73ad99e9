package k3sconfig

import (
	"sort"
	"testing"

	"sigs.k8s.io/yaml"
)

// K3s reads config.yaml as its command line: each key is a flag of the
// subcommand (server or agent), and a key that names no flag of it is
// skipped with only a warning (k3s pkg/configfilearg/parser.go: "Unknown
// flag ... found in config.yaml, skipping"), so a misspelt or misplaced key
// would silently change nothing. These are the flags the templates may use, checked against
// k3s-io/k3s pkg/cli/cmds/server.go (ServerFlags: cluster-init, server,
// token-file, agent-token-file, advertise-address, tls-san, cluster-cidr,
// service-cidr, cluster-dns, service-node-port-range, disable,
// flannel-backend, disable-network-policy, disable-kube-proxy,
// secrets-encryption, write-kubeconfig-mode, etcd-snapshot-schedule-cron,
// etcd-snapshot-retention, plus the shared node-name, node-ip, node-label,
// kubelet-arg) and pkg/cli/cmds/agent.go (server, token-file and the same
// shared node flags). agent-token-file is a server flag only: an agent
// joins with its token-file.
var k3sFlags = map[string]map[string]bool{
	RoleServerInit: serverFlags,
	RoleServer:     serverFlags,
	RoleAgent: {
		"server": true, "token-file": true,
		"node-name": true, "node-ip": true, "node-label": true, "kubelet-arg": true,
	},
}

var serverFlags = map[string]bool{
	"cluster-init": true, "server": true, "token-file": true, "agent-token-file": true,
	"advertise-address": true, "tls-san": true, "cluster-cidr": true, "service-cidr": true,
	"cluster-dns": true, "service-node-port-range": true, "disable": true,
	"flannel-backend": true, "disable-network-policy": true, "disable-kube-proxy": true,
	"secrets-encryption": true, "write-kubeconfig-mode": true,
	"etcd-snapshot-schedule-cron": true, "etcd-snapshot-retention": true,
	"node-name": true, "node-ip": true, "node-label": true, "kubelet-arg": true,
}

// TestConfigKeysAreK3sFlags: every key of every rendered config.yaml is a
// flag of the K3s subcommand that node runs.
func TestConfigKeysAreK3sFlags(t *testing.T) {
	for name, d := range decisionSets() {
		files, err := Render(d)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, f := range files {
			var cfg map[string]any
			if err := yaml.Unmarshal(f.Config, &cfg); err != nil {
				t.Fatalf("%s/%s: config.yaml: %v", name, f.Node.Name, err)
			}
			var keys []string
			for k := range cfg {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if !k3sFlags[f.Role][k] {
					t.Errorf("%s/%s (%s): config.yaml key %q is not a K3s %s flag checked upstream", name, f.Node.Name, f.Role, k, f.Role)
				}
			}
		}
	}
}

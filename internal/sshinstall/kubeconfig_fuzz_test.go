package sshinstall

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Whatever already sits at kubeconfig_path (garbage, exec plugins,
// insecure-skip-tls-verify, other clusters): the write either refuses and
// leaves the file byte for byte, or replaces it with a kubeconfig of this
// cluster at 0600. Never a panic.
func FuzzKubeconfigTarget(f *testing.F) {
	server := "https://10.0.0.2:6443"
	f.Add([]byte(foreignKubeconfig))
	f.Add([]byte("apiVersion: v1\nkind: Config\nclusters:\n- name: default\n  cluster:\n    server: https://10.0.0.2:6443\n    insecure-skip-tls-verify: true\nusers:\n- name: default\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: [-c, 'touch /tmp/pwned']\ncontexts:\n- name: default\n  context: {cluster: default, user: default}\ncurrent-context: default\n"))
	f.Add([]byte("{{{"))
	f.Add([]byte(""))
	f.Add([]byte("clusters: [{name: x}]\ncontexts: [{name: y, context: {cluster: nope}}]\n"))
	ours := clientcmdapi.NewConfig()
	ours.Clusters["default"] = &clientcmdapi.Cluster{Server: server}
	ours.AuthInfos["default"] = &clientcmdapi.AuthInfo{Token: "t"}
	ours.Contexts["default"] = &clientcmdapi.Context{Cluster: "default", AuthInfo: "default"}
	ours.CurrentContext = "default"
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		err := writeKubeconfig(p, ours, server)
		after, _ := os.ReadFile(p)
		if err != nil {
			if string(after) != string(data) {
				t.Fatalf("refused (%v) but the file changed", err)
			}
			return
		}
		cfg, lerr := clientcmd.Load(after)
		if lerr != nil || cfg.Clusters["default"] == nil || cfg.Clusters["default"].Server != server {
			t.Fatalf("written kubeconfig: %v %+v", lerr, cfg)
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v", st.Mode().Perm())
		}
	})
}

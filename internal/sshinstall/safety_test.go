package sshinstall

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"migrate-tui/internal/k3sconfig"
)

const foreignKubeconfig = `apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://work.example:6443
  name: work
contexts:
- context:
    cluster: work
    user: me
  name: work
current-context: work
users:
- name: me
  user:
    token: operator-token
`

// An install on a real sshd node: the kubeconfig and join-token holes.
// Before the fix the operator's kubeconfig was overwritten at the end of
// the install, and an unreadable token file (any non-zero cat) or a
// missing one on a node already running K3s got a brand-new token.
func TestInstallRefusesToClobberOrReplaceTokens(t *testing.T) {
	l := newLab(t, testNode{Name: "hestia"})
	clients := l.dialAll(t, []string{"hestia"})
	c := clients["hestia"]
	ctx := context.Background()
	records := filepath.Join(l.dir, "records")
	os.MkdirAll(records, 0o777)
	inst := serveStandIn(t, l, records)
	// Nodes turn Ready at once (the stand-in's CNI is released from the start).
	os.WriteFile(filepath.Join(records, "cni-released"), nil, 0o644)
	d := l.decisions([]string{"hestia"}, map[string]string{"hestia": "amd64"})
	d.Topology = k3sconfig.TopologyOneServer
	files, err := k3sconfig.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	run := func(cmd string) {
		t.Helper()
		if r, err := c.Run(ctx, cmd, nil, true); err != nil || r.Exit != 0 {
			t.Fatalf("%s: %v %+v", cmd, err, r)
		}
	}
	install := func(kubeconfig string) error {
		return Install(ctx, InstallOptions{Files: files, Clients: clients, InstallerURL: inst.URL, KubeconfigPath: kubeconfig, Poll: 50e6})
	}

	// 1. kubeconfig_path names the operator's kubeconfig: refused before
	// any node is touched, the file unchanged.
	home := t.TempDir()
	kc := filepath.Join(home, "config")
	os.WriteFile(kc, []byte(foreignKubeconfig), 0o644)
	err = install(kc)
	var ke *KubeconfigTargetError
	if !errors.As(err, &ke) || !strings.Contains(err.Error(), "cluster work at https://work.example:6443") {
		t.Fatalf("install over a foreign kubeconfig = %v", err)
	}
	if b, _ := os.ReadFile(kc); string(b) != foreignKubeconfig {
		t.Fatal("the operator's kubeconfig was changed")
	}
	if len(inst.hit) != 0 {
		t.Fatal("the installer ran although the kubeconfig target was refused")
	}
	// A symlink is refused too, and its target left alone.
	link := filepath.Join(home, "link")
	os.Symlink(kc, link)
	if err := install(link); !errors.As(err, &ke) || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("install over a symlink = %v", err)
	}

	// 2. The token file cannot be read (here: it is a directory, so cat
	// fails like a sudo glitch would): no new token, nothing installed.
	run("mkdir -p " + k3sconfig.TokenFile)
	err = install(filepath.Join(home, "k3s.yaml"))
	var re *TokenReadError
	if !errors.As(err, &re) || re.Path != k3sconfig.TokenFile {
		t.Fatalf("install with an unreadable token = %v", err)
	}
	run("rmdir " + k3sconfig.TokenFile)

	// 3. K3s already ran here but the token file is gone: refused.
	run("mkdir -p /var/lib/rancher/k3s/server && echo K10abc::server:def > " + K3sServerTokenPath)
	err = install(filepath.Join(home, "k3s.yaml"))
	var me *TokenMissingError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "already runs") {
		t.Fatalf("install on a running K3s without its token = %v", err)
	}
	if len(inst.hit) != 0 {
		t.Fatal("the installer ran although the token was not usable")
	}
	run("rm -rf /var/lib/rancher/k3s")

	// 4. A clean node installs; a rerun keeps the token and refreshes the
	// kubeconfig, which stays 0600 whatever mode it had.
	out := filepath.Join(home, "k3s.yaml")
	if err := install(out); err != nil {
		t.Fatal(err)
	}
	tok1, found, err := readRemoteToken(ctx, c, k3sconfig.TokenFile)
	if err != nil || !found {
		t.Fatalf("token after install: %v %v", found, err)
	}
	os.Chmod(out, 0o644)
	run("mkdir -p /var/lib/rancher/k3s/server && echo x > " + K3sServerTokenPath)
	if err := install(out); err != nil {
		t.Fatalf("rerun: %v", err)
	}
	tok2, _, _ := readRemoteToken(ctx, c, k3sconfig.TokenFile)
	if tok1 != tok2 {
		t.Fatal("the rerun replaced the join token")
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Fatalf("kubeconfig mode %v after the rerun", st.Mode().Perm())
	}
}

// Unit cases of the kubeconfig target rules.
func TestKubeconfigTargetRules(t *testing.T) {
	dir := t.TempDir()
	server := "https://10.0.0.2:6443"
	ours := clientcmdapi.NewConfig()
	ours.Clusters["default"] = &clientcmdapi.Cluster{Server: server}
	ours.AuthInfos["default"] = &clientcmdapi.AuthInfo{Token: "t"}
	ours.Contexts["default"] = &clientcmdapi.Context{Cluster: "default", AuthInfo: "default"}
	ours.CurrentContext = "default"
	for _, tc := range []struct {
		name, content string
		ok            bool
	}{
		{"absent", "", true},
		{"empty", " \n", true},
		{"garbage", "{{{", false},
		{"foreign", foreignKubeconfig, false},
		{"ours-again", "", true}, // filled below with our own earlier file
	} {
		p := filepath.Join(dir, tc.name)
		switch tc.name {
		case "absent":
		case "ours-again":
			b, _ := clientcmd.Write(*ours)
			os.WriteFile(p, b, 0o644)
		default:
			os.WriteFile(p, []byte(tc.content), 0o644)
		}
		before, _ := os.ReadFile(p)
		err := writeKubeconfig(p, ours, server)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		after, _ := os.ReadFile(p)
		if !tc.ok && string(after) != string(before) {
			t.Errorf("%s: refused but the file changed", tc.name)
		}
		if tc.ok {
			if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v", tc.name, st.Mode().Perm())
			}
		}
	}
	// A directory in the way is refused.
	os.Mkdir(filepath.Join(dir, "d"), 0o700)
	if err := writeKubeconfig(filepath.Join(dir, "d"), ours, server); err == nil {
		t.Error("wrote over a directory")
	}
}

// Package dnstest runs a test world with CoreDNS and the Consul DNS
// stand-in (Options.CoreDNS) and applies the repository's Terraform to it.
package dnstest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/testtools"
	"migrate-tui/internal/testworld"
	"migrate-tui/internal/tfrunner/tftest"
)

// consulServices seed the world's Consul DNS stand-in.
var consulServices = map[string]string{"minio-minio": "127.0.0.7", "vault": "127.0.0.8"}

var world *testworld.World

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	w, err := testworld.Start(ctx, testworld.Options{CoreDNS: true, ConsulServices: consulServices})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dnstest:", err)
		os.Exit(1)
	}
	world = w
	code := m.Run()
	if err := w.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "dnstest: stop:", err)
		code = 1
	}
	os.Exit(code)
}

// lookupA asks addr for name's A records over UDP.
func lookupA(addr, name string) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, addr)
	return r, err
}

func answersA(r *dns.Msg, ip string) bool {
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok && a.A.String() == ip {
			return true
		}
	}
	return false
}

// copyTerraform copies the repository's Terraform (root module, k8s/,
// modules-k8s/) into dir, so tofu's working files stay out of the tree.
func copyTerraform(t *testing.T, dir string) {
	t.Helper()
	root, err := testtools.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"main.tf", "variables.tf", "outputs.tf", "versions.tf", "services.generated.tf", "k8s", "modules-k8s"} {
		if err := os.CopyFS(filepath.Join(dir, p), os.DirFS(filepath.Join(root, p))); err != nil {
			// CopyFS takes directories; the root files are copied plainly.
			b, rerr := os.ReadFile(filepath.Join(root, p))
			if rerr != nil {
				t.Fatalf("copy %s: %v / %v", p, err, rerr)
			}
			if err := os.WriteFile(filepath.Join(dir, p), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestConsulNamesResolveThroughTheGeneratedCorefile: K3s's Corefile alone
// does not answer minio-minio.service.consul; after the repository's
// Terraform is applied with its first stage (storage, local-path: nothing
// else to install) and consul_dns_servers naming the Consul DNS stand-in,
// the coredns-custom ConfigMap Terraform rendered is projected into CoreDNS's
// import directory byte for byte, and a real lookup through CoreDNS answers
// the stand-in's address. Cluster names still resolve (K3s's kubernetes
// plugin against the world's API server).
func TestConsulNamesResolveThroughTheGeneratedCorefile(t *testing.T) {
	d := world.DNS
	if d == nil {
		t.Fatal("the world runs no CoreDNS (Options.CoreDNS)")
	}
	r, err := lookupA(d.Addr, "minio-minio.service.consul")
	if err != nil {
		t.Fatalf("CoreDNS at %s: %v", d.Addr, err)
	}
	if answersA(r, consulServices["minio-minio"]) {
		t.Fatalf("CoreDNS answered minio-minio.service.consul before any coredns-custom exists: %v", r.Answer)
	}
	testworld.WaitFor(t, 3*time.Minute, "kubernetes.default.svc.cluster.local through CoreDNS", func(ctx context.Context) (bool, error) {
		r, err := lookupA(d.Addr, "kubernetes.default.svc.cluster.local")
		if err != nil {
			return false, err
		}
		return answersA(r, "10.43.0.1"), nil
	})

	tofu := tftest.Tofu(t)
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	copyTerraform(t, work)
	servers, _ := json.Marshal([]string{d.Consul.Addr()})
	env := append(tftest.CLIEnv(t, ""),
		"TF_VAR_kubeconfig_path="+world.Kubeconfig,
		`TF_VAR_enabled_stages=["storage"]`, "TF_VAR_storage_backend=local-path",
		"TF_VAR_consul_dns_servers="+string(servers))
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(tofu, args...)
		cmd.Dir, cmd.Env = work, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tofu %v: %v\n%s", args, err, out)
		}
	}
	run("init", "-no-color")
	t.Cleanup(func() {
		cmd := exec.Command(tofu, "destroy", "-auto-approve", "-no-color")
		cmd.Dir, cmd.Env = work, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("tofu destroy: %v\n%s", err, out)
		}
	})
	run("apply", "-auto-approve", "-no-color")

	ctx := context.Background()
	cm, err := world.Client.CoreV1().ConfigMaps("kube-system").Get(ctx, testworld.CoreDNSCustomConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the storage stage's apply left no ConfigMap coredns-custom: %v", err)
	}
	if !strings.Contains(cm.Data["consul.server"], "forward . "+d.Consul.Addr()) {
		t.Fatalf("coredns-custom as Terraform rendered it does not forward to %s:\n%s", d.Consul.Addr(), cm.Data["consul.server"])
	}
	testworld.WaitFor(t, 3*time.Minute, "coredns-custom to be projected into "+d.CustomDir, func(context.Context) (bool, error) {
		for k, v := range cm.Data {
			b, err := os.ReadFile(filepath.Join(d.CustomDir, k))
			if err != nil {
				return false, err
			}
			if string(b) != v {
				return false, fmt.Errorf("%s differs from the ConfigMap", k)
			}
		}
		return true, nil
	})
	for _, name := range []string{"minio-minio.service.consul", "vault.service.consul"} {
		want := consulServices[strings.TrimSuffix(name, ".service.consul")]
		testworld.WaitFor(t, 3*time.Minute, name+" through CoreDNS to answer "+want, func(context.Context) (bool, error) {
			r, err := lookupA(d.Addr, name)
			if err != nil {
				return false, err
			}
			if !answersA(r, want) {
				return false, fmt.Errorf("rcode %s, answer %v", dns.RcodeToString[r.Rcode], r.Answer)
			}
			return true, nil
		})
	}
	if r, err := lookupA(d.Addr, "nope.service.consul"); err != nil || r.Rcode != dns.RcodeNameError {
		t.Errorf("an unknown Consul service through CoreDNS: %v %v, want NXDOMAIN from the stand-in", r, err)
	}
}

// TestForwardOutsideLoopbackIsNotProjected: the world talks to loopback
// only, so a coredns-custom key forwarding to the homelab's Consul DNS
// addresses (the default consul_dns_servers) is not projected into CoreDNS,
// and the world's log says what to set instead.
func TestForwardOutsideLoopbackIsNotProjected(t *testing.T) {
	d := world.DNS
	ctx := context.Background()
	cms := world.Client.CoreV1().ConfigMaps("kube-system")
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: testworld.CoreDNSCustomConfigMap},
		Data: map[string]string{
			"lan.server":   "consul {\n    forward . 192.168.1.5:8600 192.168.1.6:8600\n}\n",
			"local.server": "example.consul {\n    forward . " + d.Consul.Addr() + "\n}\n",
		},
	}
	if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cms.Delete(context.Background(), cm.Name, metav1.DeleteOptions{}) })
	testworld.WaitFor(t, 3*time.Minute, "the loopback key to be projected", func(context.Context) (bool, error) {
		_, err := os.Stat(filepath.Join(d.CustomDir, "local.server"))
		return err == nil, err
	})
	if _, err := os.Stat(filepath.Join(d.CustomDir, "lan.server")); !os.IsNotExist(err) {
		t.Errorf("lan.server, forwarding to 192.168.1.5:8600, was projected (stat: %v)", err)
	}
	log, err := os.ReadFile(filepath.Join(world.Dir, "logs", "coredns-custom.log"))
	if err != nil || !strings.Contains(string(log), "lan.server not projected") || !strings.Contains(string(log), "192.168.1.5:8600") {
		t.Errorf("the world's coredns-custom.log does not say why lan.server was left out: %q %v", log, err)
	}
}

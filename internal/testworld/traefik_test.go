package testworld_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"migrate-tui/internal/tftree"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/testtools"
	"migrate-tui/internal/testworld"
	"migrate-tui/internal/tfrunner/tftest"
	"migrate-tui/internal/tlssecret"
	"migrate-tui/internal/tlssecret/tlstest"
)

// The real Traefik routes a real HTTPS request for a PoC host to its backend
// and serves the wildcard certificate from the TLS Secret, with exactly the
// objects the ingress and services stages apply (the repository's
// configuration applied by OpenTofu, defaults but for the test's names).
// KWOK's pods run no process, so the Service's backend is replaced by a real
// HTTP server inside Traefik's network namespace (an Endpoint may not be a
// loopback address); Traefik reaches it the way it reaches a pod.
func TestTraefikRoutesPoCHostWithWildcardCertificate(t *testing.T) {
	if world.Traefik == nil {
		t.Fatal("the package's world runs without Options.Traefik")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	const domain = "homelab.test"
	ns := fmt.Sprintf("poc-traefik-%d", os.Getpid()%100000)
	host := "whoami-k8s." + domain // the default poc_host_pattern

	dir := copyRepoConfig(t)
	overrides := map[string]any{
		"kubeconfig_path": world.Kubeconfig,
		"enabled_stages":  []string{"ingress", "services"},
		"poc_services":    []string{"whoami"},
		"poc_namespace":   ns,
		"domain":          domain,
	}
	b, _ := json.Marshal(overrides)
	if err := os.WriteFile(filepath.Join(dir, "zz-test.auto.tfvars.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = world.Client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})

	// The wildcard Secret first, as `migrate-tui tls-secret` makes it.
	pair := tlstest.Valid(t, domain)
	certFile, keyFile := pair.Files(t, t.TempDir())
	m, err := tlssecret.FromFiles(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	target, err := tlssecret.TargetFromTfvars(filepath.Join(dir, "terraform.tfvars"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlssecret.Apply(ctx, world.Client, target, m); err != nil {
		t.Fatalf("create the TLS Secret %s/%s: %v", target.Namespace, target.Name, err)
	}

	tofuApply(t, ctx, dir)

	// The backend: whoami's KWOK pods cannot answer, so none run, and the
	// Service's endpoints are a real server.
	nonce := fmt.Sprintf("whoami backend %d", time.Now().UnixNano())
	const ip = "10.232.0.2"
	port, err := world.TraefikBackend(ip, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, nonce)
	}))
	if err != nil {
		t.Fatal(err)
	}
	// A merge patch, not Get+Update: the Deployment controller writes the
	// object's status meanwhile, and an Update then loses on a conflict.
	if _, err := world.Client.AppsV1().Deployments(ns).Patch(ctx, "whoami", types.MergePatchType,
		[]byte(`{"spec":{"replicas":0}}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("scale the whoami Deployment to 0: %v", err)
	}
	svc, err := world.Client.CoreV1().Services(ns).Get(ctx, "whoami", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("whoami Service after apply: %v", err)
	}
	ready := true
	portName, proto := svc.Spec.Ports[0].Name, corev1.ProtocolTCP
	port32 := int32(port)
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "whoami-real", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: "whoami"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port32, Protocol: &proto}},
	}
	if _, err := world.Client.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Traefik's API shows the router the IngressRoute made: websecure, TLS.
	var router testworld.TraefikRouter
	testworld.WaitFor(t, 3*time.Minute, "a Traefik router for Host(`"+host+"`)", func(ctx context.Context) (bool, error) {
		routers, err := world.TraefikRouters(ctx)
		if err != nil {
			return false, err
		}
		for _, r := range routers {
			if strings.Contains(r.Rule, "Host(`"+host+"`)") && r.Status == "enabled" {
				router = r
				return true, nil
			}
		}
		return false, nil
	})
	if router.Provider != "kubernetescrd" || router.TLS == nil || !slices.Equal(router.EntryPoints, []string{"websecure"}) {
		t.Fatalf("router %+v: want provider kubernetescrd, entrypoint websecure, TLS on", router)
	}

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pair.ChainPEM) {
		t.Fatal("no CA in the test pair")
	}
	leaf, _ := pem.Decode(pair.ChainPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, world.Traefik.Websecure)
		},
	}}
	get := func(ctx context.Context, h string) (*http.Response, string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+h+"/", nil)
		resp, err := client.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp, string(body), err
	}
	// The router exists; its server list may trail it by a refresh.
	var resp *http.Response
	var body string
	testworld.WaitFor(t, 3*time.Minute, "https://"+host+"/ to answer from the backend", func(ctx context.Context) (bool, error) {
		r, b, err := get(ctx, host)
		if err != nil {
			return false, err
		}
		resp, body = r, b
		return r.StatusCode == http.StatusOK, nil
	})
	if body != nonce {
		t.Fatalf("https://%s/ answered %q, want the backend's %q", host, body, nonce)
	}
	if got := resp.TLS.PeerCertificates[0].Raw; !bytes.Equal(got, leaf.Bytes) {
		t.Fatalf("Traefik served %v, not the wildcard certificate from the Secret", resp.TLS.PeerCertificates[0].DNSNames)
	}
	// A host without an IngressRoute gets no backend: routing is by host.
	r, _, err := get(ctx, "nomad-only."+domain)
	if err != nil || r.StatusCode != http.StatusNotFound {
		t.Fatalf("a host with no route: %v, %v; want 404 from Traefik", r, err)
	}
}

// copyRepoConfig copies the configuration and terraform.tfvars.example (as
// terraform.tfvars) into a fresh directory: no state lands in the repository.
func copyRepoConfig(t *testing.T) string {
	t.Helper()
	root, err := testtools.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "config")
	if err := tftree.CopyRepo(root, dst); err != nil {
		t.Fatal(err)
	}
	if err := tftree.Copy(filepath.Join(root, "terraform.tfvars.example"), filepath.Join(dst, "terraform.tfvars")); err != nil {
		t.Fatal(err)
	}
	return dst
}

// tofuApply runs tofu init and apply in dir with providers from the tools
// mirror only.
func tofuApply(t *testing.T, ctx context.Context, dir string) {
	t.Helper()
	bin := tftest.Tofu(t)
	env := append(tftest.CLIEnv(t, ""), "TF_DATA_DIR="+filepath.Join(t.TempDir(), "data"))
	for _, args := range [][]string{{"init", "-no-color"}, {"apply", "-auto-approve", "-no-color"}} {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tofu %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

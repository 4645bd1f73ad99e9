package testworld

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"migrate-tui/internal/testtools"
)

// Traefik is the real Traefik the world runs natively (Options.Traefik): the
// binary hack/bootstrap.sh builds at TRAEFIK_VERSION, with the kubernetescrd
// and kubernetesingress providers watching the world's API server the way
// the in-cluster Traefik of the ingress stage watches K3s's.
//
// It runs in a network namespace of its own with nothing but a loopback
// interface: KWOK's pods have made-up addresses, and a request routed to one
// must fail there (502) instead of leaving this machine. The world forwards
// its API server into the namespace and Traefik's ports out of it.
type Traefik struct {
	// Websecure is host:port of the websecure entrypoint (TLS on, as the
	// chart's ports.websecure.tls.enabled sets it). It stands in for the
	// NodePort traefik_https_node_port on a node.
	Websecure string
	// API is the base URL of Traefik's API (api.insecure on its own
	// "traefik" entrypoint): /api/http/routers lists routers.
	API string
	// Netns names the network namespace Traefik runs in.
	Netns string

	ns *netns
}

// The service account Traefik runs as, bound to the ClusterRole Traefik's
// own documentation ships (kubernetes-crd-rbac.yml at the pinned version),
// so the test proves the chart's permissions are enough.
const (
	traefikNamespace      = "kube-system"
	traefikServiceAccount = "traefik-ingress-controller"
	traefikRBACFile       = "docs/content/reference/dynamic-configuration/kubernetes-crd-rbac.yml"
	// Inside Traefik's namespace nothing else listens.
	traefikWebsecureInNS = "127.0.0.1:8443"
	traefikAPIInNS       = "127.0.0.1:8080"
)

// The static configuration. Traefik reads providers.kubernetesCRD.endpoint,
// token (a value or a file path: types.FileOrContent) and certAuthFilePath
// only when neither KUBERNETES_SERVICE_HOST nor KUBECONFIG is set
// (pkg/provider/kubernetes/crd/kubernetes.go newK8sClient and
// client.go newExternalClusterClient in traefik/v3 v3.6.12), so the process
// gets an environment without them. api.insecure serves the API on the
// entrypoint named "traefik"; ping is served there too.
const traefikConfig = `global:
  checkNewVersion: false
  sendAnonymousUsage: false
log:
  level: INFO
  noColor: true
entryPoints:
  websecure:
    address: "%[1]s"
    http:
      tls: {}
  traefik:
    address: "%[2]s"
api:
  insecure: true
  dashboard: false
ping: {}
providers:
  kubernetesCRD:
    endpoint: "%[3]s"
    token: "%[4]s"
    certAuthFilePath: "%[5]s"
  kubernetesIngress:
    endpoint: "%[3]s"
    token: "%[4]s"
    certAuthFilePath: "%[5]s"
`

// startTraefik grants Traefik's documented RBAC to a service account, gives
// Traefik a token for it, runs the binary in its network namespace and
// waits until it answers /ping.
func (w *World) startTraefik(ctx context.Context, bins map[string]string) error {
	if os.Geteuid() != 0 {
		return errors.New("traefik: it runs in a network namespace of its own (so a request can never leave this machine for a simulated pod's address), which needs root; run as root or leave Options.Traefik off")
	}
	if err := w.traefikRBAC(ctx); err != nil {
		return err
	}
	// A bound token for a year: the sandbox may run for days.
	expiry := int64(365 * 24 * 3600)
	tr, err := w.Client.CoreV1().ServiceAccounts(traefikNamespace).CreateToken(ctx, traefikServiceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("traefik: token for %s/%s: %w", traefikNamespace, traefikServiceAccount, err)
	}
	dir := filepath.Join(w.Dir, "traefik")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(tr.Status.Token), 0o600); err != nil {
		return err
	}

	suffix, err := randomHex(3)
	if err != nil {
		return err
	}
	ns, err := newNetns(fmt.Sprintf("testworld-traefik-%d-%s", os.Getpid(), suffix))
	if err != nil {
		return fmt.Errorf("traefik: %w", err)
	}
	w.onStop(ns.close)
	bg := w.background()
	// The API server, inside the namespace.
	apiIn, err := ns.listen("127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("traefik: listen inside %s: %w", ns.name, err)
	}
	apiHost := strings.TrimPrefix(w.APIServerURL, "https://")
	forward(bg, apiIn, func() (net.Conn, error) { return net.DialTimeout("tcp", apiHost, 10*time.Second) })
	// Traefik's ports, outside it.
	websecureLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	forward(bg, websecureLn, func() (net.Conn, error) { return ns.dial(traefikWebsecureInNS) })
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		websecureLn.Close()
		return err
	}
	forward(bg, apiLn, func() (net.Conn, error) { return ns.dial(traefikAPIInNS) })

	cfg := filepath.Join(dir, "traefik.yml")
	endpoint := "https://" + apiIn.Addr().String()
	body := fmt.Sprintf(traefikConfig, traefikWebsecureInNS, traefikAPIInNS, endpoint, tokenFile, w.certs.ca.certFile)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		return err
	}
	if err := w.runEnv("traefik", ns.ip, traefikEnv(), "netns", "exec", ns.name, bins["traefik"], "--configFile="+cfg); err != nil {
		return err
	}
	w.Traefik = &Traefik{Websecure: websecureLn.Addr().String(), API: "http://" + apiLn.Addr().String(), Netns: ns.name, ns: ns}
	client := &http.Client{Timeout: 5 * time.Second}
	return w.poll(ctx, "traefik /ping", func(ctx context.Context) (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.Traefik.API+"/ping", nil)
		resp, err := client.Do(req)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// TraefikBackend serves h inside Traefik's network namespace at ip, an
// address it adds to the namespace's loopback interface (an Endpoint may not
// be a loopback address), and returns the port: a backend Traefik reaches
// as it reaches a pod, while KWOK's pods run no process.
func (w *World) TraefikBackend(ip string, h http.Handler) (int, error) {
	if w.Traefik == nil {
		return 0, errors.New("test world: Traefik is not running (Options.Traefik)")
	}
	ns := w.Traefik.ns
	if out, err := ns.exec("ip", "addr", "replace", ip+"/32", "dev", "lo"); err != nil {
		return 0, fmt.Errorf("add %s inside %s: %v: %s", ip, ns.name, err, out)
	}
	ln, err := ns.listen(net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	w.onStop(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// traefikEnv is this process's environment without what would make Traefik
// ignore the endpoint and token of its static configuration.
func traefikEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// runEnv is run with an environment of its own.
func (w *World) runEnv(name, bin string, env []string, args ...string) error {
	p, err := startProcEnv(w.Dir, name, bin, env, args...)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.procs = append(w.procs, p)
	w.mu.Unlock()
	return nil
}

// traefikRBAC creates the service account and applies Traefik's documented
// ClusterRole and ClusterRoleBinding, with the binding's subject moved to
// that service account.
func (w *World) traefikRBAC(ctx context.Context) error {
	version, err := testtools.Version("TRAEFIK_VERSION")
	if err != nil {
		return err
	}
	mod, err := testtools.ModuleDir("github.com/traefik/traefik/v3", version)
	if err != nil {
		return fmt.Errorf("traefik RBAC: %w (%s)", err, testtools.BootstrapHint)
	}
	b, err := os.ReadFile(filepath.Join(mod, traefikRBACFile))
	if err != nil {
		return fmt.Errorf("traefik RBAC: %w", err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: traefikServiceAccount, Namespace: traefikNamespace}}
	if _, err := w.Client.CoreV1().ServiceAccounts(traefikNamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("traefik: create service account: %w", err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("traefik RBAC %s: %w", traefikRBACFile, err)
		}
		if obj == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		var gvr schema.GroupVersionResource
		switch u.GetKind() {
		case "ClusterRole":
			gvr = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
		case "ClusterRoleBinding":
			gvr = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}
			subjects := []any{map[string]any{"kind": "ServiceAccount", "name": traefikServiceAccount, "namespace": traefikNamespace}}
			if err := unstructured.SetNestedSlice(u.Object, subjects, "subjects"); err != nil {
				return err
			}
		default:
			return fmt.Errorf("traefik RBAC %s: unexpected kind %q", traefikRBACFile, u.GetKind())
		}
		if _, err := w.Dynamic.Resource(gvr).Create(ctx, u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("traefik RBAC: create %s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
}

// TraefikRouter is one HTTP router as Traefik's API reports it.
type TraefikRouter struct {
	Name        string   `json:"name"`
	Provider    string   `json:"provider"`
	Rule        string   `json:"rule"`
	Service     string   `json:"service"`
	Status      string   `json:"status"` // enabled, disabled or warning
	EntryPoints []string `json:"entryPoints"`
	TLS         *struct {
		Options string `json:"options"`
	} `json:"tls"`
	Error []string `json:"error"`
}

// TraefikRouters lists Traefik's HTTP routers (GET /api/http/routers).
func (w *World) TraefikRouters(ctx context.Context) ([]TraefikRouter, error) {
	if w.Traefik == nil {
		return nil, errors.New("test world: Traefik is not running (Options.Traefik)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.Traefik.API+"/api/http/routers?per_page=1000", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("traefik API %s: %s: %s", req.URL, resp.Status, b)
	}
	var routers []TraefikRouter
	if err := json.NewDecoder(resp.Body).Decode(&routers); err != nil {
		return nil, fmt.Errorf("traefik API %s: %w", req.URL, err)
	}
	return routers, nil
}

package testworld

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"migrate-tui/internal/consuldns"
)

// k3sCorefile is the Corefile of K3s's bundled CoreDNS: the ConfigMap
// kube-system/coredns in K3s's manifests/coredns.yaml (k3s-io/k3s, read at
// commit 66c487bd3cc9; K3s fills %{CLUSTER_DOMAIN}% with its
// cluster-domain, cluster.local by default). Its Deployment mounts the
// ConfigMap coredns-custom (optional) at /etc/coredns/custom, so each key of
// that ConfigMap becomes a file the two imports read: *.override inside the
// main server block, *.server as server blocks of their own. K3s is not a
// module the Go proxy serves (its +k3s versions are not semver), so the text
// is restated here.
const k3sCorefile = `.:53 {
    errors
    health
    ready
    kubernetes %{CLUSTER_DOMAIN}% in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    hosts /etc/coredns/NodeHosts {
      ttl 60
      reload 15s
      fallthrough
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
    import /etc/coredns/custom/*.override
}
import /etc/coredns/custom/*.server
`

// CoreDNSCustomConfigMap is the ConfigMap K3s's CoreDNS imports.
const CoreDNSCustomConfigMap = "coredns-custom"

// DNS is the world's CoreDNS and its Consul DNS stand-in.
type DNS struct {
	// Addr is CoreDNS (UDP and TCP), 127.0.0.1:port.
	Addr string
	// Consul is the Consul DNS stand-in (Options.ConsulServices); forward
	// .consul to Consul.Addr() as consul_dns_servers does on the homelab.
	Consul *consuldns.Server
	// CustomDir is where coredns-custom's keys are written, as the
	// kubelet projects the ConfigMap into K3s's CoreDNS pod.
	CustomDir string

	// upstream stands in for the node's /etc/resolv.conf: it knows no
	// .consul name, so only the coredns-custom forwarding can answer one.
	upstream *consuldns.Server
}

// worldCorefile adapts K3s's Corefile to a process on a shared machine:
// its directories move into the world's, CoreDNS's own ports (health, ready,
// metrics) move to loopback ports of the world, the kubernetes plugin reads
// the world's kubeconfig, and the upstream resolver is the stand-in for the
// node's resolv.conf. The DNS port itself is CoreDNS's -dns.port, so server
// blocks imported without a port land on it, as they land on 53 in K3s's pod.
// Every rewrite must match exactly once: a change in K3s's text fails here.
func worldCorefile(dir, kubeconfig, upstream string, dnsPort, health, ready, metrics int) (string, error) {
	c := k3sCorefile
	for _, r := range []struct{ old, new string }{
		{"%{CLUSTER_DOMAIN}%", "cluster.local"},
		{".:53 {", ".:" + strconv.Itoa(dnsPort) + " {"},
		{"    health\n", "    health 127.0.0.1:" + strconv.Itoa(health) + "\n"},
		{"    ready\n", "    ready 127.0.0.1:" + strconv.Itoa(ready) + "\n"},
		{"prometheus :9153", "prometheus 127.0.0.1:" + strconv.Itoa(metrics)},
		{"      pods insecure\n", "      kubeconfig " + kubeconfig + " testworld\n      pods insecure\n"},
		{"/etc/coredns/NodeHosts", filepath.Join(dir, "NodeHosts")},
		{"forward . /etc/resolv.conf", "forward . " + upstream},
		{"import /etc/coredns/custom/*.override", "import " + filepath.Join(dir, "custom", "*.override")},
		{"import /etc/coredns/custom/*.server", "import " + filepath.Join(dir, "custom", "*.server")},
	} {
		if n := strings.Count(c, r.old); n != 1 {
			return "", fmt.Errorf("K3s Corefile: %q occurs %d times, want 1", r.old, n)
		}
		c = strings.Replace(c, r.old, r.new, 1)
	}
	return c, nil
}

// startCoreDNS starts the Consul DNS stand-in and CoreDNS, waits until
// CoreDNS is ready, then projects coredns-custom into its import directory.
func (w *World) startCoreDNS(ctx context.Context, bins map[string]string) error {
	dir := filepath.Join(w.Dir, "coredns")
	d := &DNS{CustomDir: filepath.Join(dir, "custom")}
	if err := os.MkdirAll(d.CustomDir, 0o755); err != nil {
		return err
	}
	var err error
	if d.Consul, err = consuldns.New(w.Options.ConsulServices); err != nil {
		return err
	}
	if err := d.Consul.Start("127.0.0.1:0"); err != nil {
		return err
	}
	w.onStop(func() { _ = d.Consul.Close() })
	if d.upstream, err = consuldns.New(nil); err != nil {
		return err
	}
	if err := d.upstream.Start("127.0.0.1:0"); err != nil {
		return err
	}
	w.onStop(func() { _ = d.upstream.Close() })

	// K3s writes "<InternalIP> <hostname>" of every node into NodeHosts.
	var hosts strings.Builder
	if w.Options.KWOK {
		for _, n := range Nodes {
			fmt.Fprintf(&hosts, "127.0.0.1 %s\n", n.Name)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "NodeHosts"), []byte(hosts.String()), 0o644); err != nil {
		return err
	}
	ports, err := freePorts(4)
	if err != nil {
		return err
	}
	corefile, err := worldCorefile(dir, w.Kubeconfig, d.upstream.Addr(), ports[0], ports[1], ports[2], ports[3])
	if err != nil {
		return err
	}
	conf := filepath.Join(dir, "Corefile")
	if err := os.WriteFile(conf, []byte(corefile), 0o644); err != nil {
		return err
	}
	if err := w.run("coredns", bins["coredns"], "-conf", conf, "-dns.port", strconv.Itoa(ports[0])); err != nil {
		return err
	}
	d.Addr = "127.0.0.1:" + strconv.Itoa(ports[0])
	readyURL := "http://127.0.0.1:" + strconv.Itoa(ports[2]) + "/ready"
	if err := w.poll(ctx, "CoreDNS to be ready ("+readyURL+") and answer on "+d.Addr, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, readyURL, nil)
		if err != nil {
			return false, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, nil
		}
		// /ready can answer before the DNS listeners do.
		m := new(dns.Msg)
		m.SetQuestion("cluster.local.", dns.TypeSOA)
		_, _, err = (&dns.Client{Timeout: 2 * time.Second}).ExchangeContext(ctx, m, d.Addr)
		return err == nil, err
	}); err != nil {
		return err
	}
	w.DNS = d
	return w.projectCoreDNSCustom(d)
}

// projectCoreDNSCustom plays the kubelet's part for K3s's CoreDNS pod: it
// keeps the files in CustomDir equal to the keys of the ConfigMap
// kube-system/coredns-custom and then tells CoreDNS to reload (SIGUSR1; in
// K3s the Corefile's reload plugin notices within its 30 s interval, its
// checksum covering the imported files: coredns plugin/reload parses the
// Corefile with its imports).
func (w *World) projectCoreDNSCustom(d *DNS) error {
	factory := informers.NewSharedInformerFactoryWithOptions(w.Client, 0,
		informers.WithNamespace("kube-system"),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", CoreDNSCustomConfigMap).String()
		}))
	inf := factory.Core().V1().ConfigMaps().Informer()
	sync := func(obj any) {
		data := map[string]string{}
		if cm, ok := obj.(*corev1.ConfigMap); ok {
			for k, v := range cm.Data {
				// The world talks to loopback only: a key forwarding
				// elsewhere (consul_dns_servers left at the homelab's
				// addresses) is not projected, and the log says so.
				if bad := nonLoopbackForwards(v); len(bad) > 0 {
					w.logf("coredns-custom", "key %s not projected: it forwards to %s, outside loopback; set consul_dns_servers to the Consul DNS stand-in %s", k, strings.Join(bad, ", "), d.Consul.Addr())
					continue
				}
				data[k] = v
			}
		}
		if changed, err := writeProjection(d.CustomDir, data); err != nil || !changed {
			return
		}
		w.signal("coredns", syscall.SIGUSR1)
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    sync,
		UpdateFunc: func(_, obj any) { sync(obj) },
		DeleteFunc: func(any) { sync(nil) },
	}); err != nil {
		return err
	}
	go inf.Run(w.background().Done())
	return nil
}

// writeProjection makes dir hold exactly data's keys as files and reports
// whether anything changed.
func writeProjection(dir string, data map[string]string) (bool, error) {
	changed := false
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if _, keep := data[e.Name()]; !keep {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return changed, err
			}
			changed = true
		}
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := filepath.Join(dir, k)
		if old, err := os.ReadFile(p); err == nil && string(old) == data[k] {
			continue
		}
		if err := os.WriteFile(p, []byte(data[k]), 0o644); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}

// signal sends sig to the world's process called name.
func (w *World) signal(name string, sig syscall.Signal) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.procs {
		if p.name == name && !p.exited() {
			_ = p.cmd.Process.Signal(sig)
		}
	}
}

// nonLoopbackForwards lists the upstreams of the forward directives in a
// Corefile snippet that are not on loopback.
func nonLoopbackForwards(corefile string) []string {
	var bad []string
	for _, line := range strings.Split(corefile, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "forward" {
			continue
		}
		for _, to := range f[2:] {
			if to == "{" {
				break
			}
			host := strings.TrimPrefix(to, "dns://")
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				bad = append(bad, to)
			}
		}
	}
	return bad
}

// logf appends a line to the world's log file name.log.
func (w *World) logf(name, format string, args ...any) {
	f, err := os.OpenFile(filepath.Join(w.Dir, "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, time.Now().UTC().Format(time.RFC3339)+" "+format+"\n", args...)
}

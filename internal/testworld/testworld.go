// Package testworld starts a real Kubernetes control plane for tests and for
// the sandbox: etcd and kube-apiserver on loopback, optionally the
// controller-manager, the scheduler, KWOK with three simulated homelab nodes,
// metrics-server, the VPA recommender, and the CRDs later stages apply
// objects of. Start it once per test package (TestMain): an API server costs
// 10-15 s on two cores.
package testworld

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"migrate-tui/internal/testtools"
)

// Options chooses what runs beside etcd and kube-apiserver. Each option
// turns on what it needs: KWOK needs the controllers (pods must be
// scheduled), Metrics needs KWOK (it simulates the kubelets metrics-server
// scrapes), VPARecommender needs Metrics and the CRDs, LocalPath needs KWOK.
type Options struct {
	Controllers    bool // kube-controller-manager and kube-scheduler
	KWOK           bool // KWOK with the nodes hestia (amd64), heracles and nyx (arm64)
	Metrics        bool // KWOK resource metrics, metrics-server and the metrics.k8s.io APIService
	VPARecommender bool // the real vpa-recommender (--recommender-interval=10s)
	CRDs           bool // VPA, External Secrets, Traefik, Cilium, K3s HelmChart CRDs
	// LocalPath runs K3s's local-path-provisioner (rancher.io/local-path)
	// with the default StorageClass local-path; its helper pods run on the
	// KWOK nodes, so it implies KWOK.
	LocalPath bool
	// Traefik runs the real Traefik (kubernetescrd and kubernetesingress
	// providers) natively against the API server, websecure and its API on
	// loopback ports (World.Traefik); it needs the CRDs.
	Traefik bool
	// S3 runs a real S3 server (versitygw, posix backend) on loopback with a
	// root account generated for this world (World.S3): MinIO's stand-in for
	// Litestream and the services stage's bucket check.
	S3 bool

	// NodesWaitForCNI makes the KWOK nodes behave like K3s nodes with
	// flannel off: NotReady (the kubelet's "container runtime network not
	// ready" reason) until a Running pod of a DaemonSet matching
	// CNIPodSelector in kube-system is on them (cni.go). It implies KWOK.
	// Off, nodes are Ready whatever runs.
	NodesWaitForCNI bool
	// CNIPodSelector is a label selector (default DefaultCNIPodSelector,
	// Cilium's agent).
	CNIPodSelector string
	// CoreDNS runs the real CoreDNS with the Corefile K3s ships, importing
	// the ConfigMap kube-system/coredns-custom as K3s's CoreDNS pod does
	// (coredns.go), and a Consul DNS stand-in serving ConsulServices
	// (World.DNS).
	CoreDNS bool
	// ConsulServices are the stand-in's records: service name (as in
	// <name>.service.consul) to IPv4 address.
	ConsulServices map[string]string

	// Dir is where the world's own directory is made (default os.TempDir()).
	Dir string
}

func (o Options) complete() Options {
	if o.VPARecommender {
		o.Metrics, o.CRDs = true, true
	}
	if o.Traefik {
		o.CRDs = true
	}
	if o.Metrics || o.LocalPath || o.NodesWaitForCNI {
		o.KWOK = true
	}
	if o.KWOK {
		o.Controllers = true
	}
	return o
}

// Node is one simulated node of the homelab.
type Node struct {
	Name   string
	Arch   string
	CPU    string // capacity
	Memory string // capacity
}

// Nodes are the simulated homelab nodes KWOK runs; all three are K3s servers
// as in the proof of concept.
var Nodes = []Node{
	{Name: "hestia", Arch: "amd64", CPU: "8", Memory: "32Gi"},
	{Name: "heracles", Arch: "arm64", CPU: "4", Memory: "8Gi"},
	{Name: "nyx", Arch: "arm64", CPU: "4", Memory: "8Gi"},
}

// World is a running control plane. Its fields are read-only.
type World struct {
	Dir        string // the world's directory: certificates, logs, kubeconfig
	Kubeconfig string // admin kubeconfig file
	RESTConfig *rest.Config
	Client     kubernetes.Interface
	Dynamic    dynamic.Interface

	APIServerURL string
	Options      Options  // what was started, with implied options filled in
	Traefik      *Traefik // set when Options.Traefik

	DNS *DNS // set when Options.CoreDNS
	S3  *S3  // set when Options.S3

	etcdDir  string  // etcd's data, on tmpfs when there is one
	bg       bgLoops // in-process loops (the CNI watcher, the DNS stand-ins)
	token    string
	certs    *worldCerts
	mu       sync.Mutex
	procs    []*proc // in start order
	stopOnce sync.Once
	stopErr  error
}

// tools lists the binaries a world with these options needs.
func (o Options) tools() []string {
	t := []string{"etcd", "kube-apiserver"}
	if o.Controllers {
		t = append(t, "kube-controller-manager", "kube-scheduler")
	}
	if o.KWOK {
		t = append(t, "kwok")
	}
	if o.Metrics {
		t = append(t, "metrics-server")
	}
	if o.VPARecommender {
		t = append(t, "vpa-recommender")
	}
	if o.LocalPath {
		t = append(t, "local-path-provisioner")
	}
	if o.CoreDNS {
		t = append(t, "coredns")
	}
	if o.Traefik {
		t = append(t, "traefik")
	}
	if o.S3 {
		t = append(t, "versitygw")
	}
	return t
}

// Start starts a world and waits until it is usable: the API server ready,
// CRDs established, nodes Ready, the metrics API available, as the options
// ask. On failure everything it started is stopped again.
func Start(ctx context.Context, o Options) (*World, error) {
	o = o.complete()
	bins := map[string]string{}
	for _, name := range o.tools() {
		p, err := testtools.Bin(name)
		if err != nil {
			return nil, err
		}
		bins[name] = p
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 4*time.Minute)
		defer cancel()
	}
	base := o.Dir
	if base == "" {
		base = os.TempDir()
	}
	for attempt := 1; ; attempt++ {
		dir, err := os.MkdirTemp(base, "testworld-")
		if err != nil {
			return nil, fmt.Errorf("test world directory: %w", err)
		}
		w := &World{Dir: dir, Options: o}
		err = w.start(ctx, bins)
		if err == nil {
			return w, nil
		}
		if stopErr := w.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
		// A free port found here can be taken by another process before the
		// server binds it; start again on new ports.
		if attempt < 3 && ctx.Err() == nil && strings.Contains(err.Error(), "address already in use") {
			continue
		}
		return nil, err
	}
}

func (w *World) start(ctx context.Context, bins map[string]string) error {
	o := w.Options
	var err error
	// etcd's fsyncs dominate API latency on a shared disk; tmpfs avoids them.
	w.etcdDir, err = os.MkdirTemp(shmOr(w.Dir), "testworld-etcd-")
	if err != nil {
		return err
	}
	if w.certs, err = makeCerts(filepath.Join(w.Dir, "pki")); err != nil {
		return fmt.Errorf("test world certificates: %w", err)
	}
	w.token, err = randomHex(24)
	if err != nil {
		return err
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdClient, etcdPeer, apiPort := ports[0], ports[1], ports[2]

	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdClient)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(etcdPeer)
	if err := w.run("etcd", bins["etcd"],
		"--name=testworld",
		"--data-dir="+w.etcdDir,
		"--listen-client-urls="+etcdURL,
		"--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=testworld="+peerURL,
		"--logger=zap",
		"--log-level=warn",
	); err != nil {
		return err
	}

	tokens := filepath.Join(w.Dir, "pki", "tokens.csv")
	if err := os.WriteFile(tokens, []byte(w.token+",admin,admin,system:masters\n"), 0o600); err != nil {
		return err
	}
	c := w.certs
	if err := w.run("kube-apiserver", bins["kube-apiserver"],
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(apiPort),
		"--cert-dir="+filepath.Join(w.Dir, "pki", "apiserver"),
		"--tls-cert-file="+c.serving.certFile,
		"--tls-private-key-file="+c.serving.keyFile,
		"--client-ca-file="+c.ca.certFile,
		"--service-account-key-file="+c.saPub,
		"--service-account-signing-key-file="+c.saKey,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--token-auth-file="+tokens,
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.43.0.0/16",
		"--allow-privileged=true",
		"--endpoint-reconciler-type=none", // a loopback address may not be an Endpoint
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--requestheader-client-ca-file="+c.frontProxyCA.certFile,
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file="+c.frontProxyClient.certFile,
		"--proxy-client-key-file="+c.frontProxyClient.keyFile,
	); err != nil {
		return err
	}

	w.APIServerURL = "https://127.0.0.1:" + strconv.Itoa(apiPort)
	w.Kubeconfig = filepath.Join(w.Dir, "kubeconfig")
	if err := w.writeKubeconfig(); err != nil {
		return err
	}
	if w.RESTConfig, err = clientcmd.BuildConfigFromFlags("", w.Kubeconfig); err != nil {
		return err
	}
	w.RESTConfig.QPS, w.RESTConfig.Burst = 100, 200
	if w.Client, err = kubernetes.NewForConfig(w.RESTConfig); err != nil {
		return err
	}
	if w.Dynamic, err = dynamic.NewForConfig(w.RESTConfig); err != nil {
		return err
	}
	if err := w.waitAPIServer(ctx); err != nil {
		return err
	}

	// Everything after the API server is independent: run it side by side.
	var wg sync.WaitGroup
	errs := make([]error, 6)
	step := func(i int, f func(context.Context) error) {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f(ctx) }()
	}
	if o.CRDs {
		step(0, w.installCRDs)
	}
	if o.Controllers {
		step(1, func(ctx context.Context) error { return w.startControllers(ctx, bins) })
	}
	if o.KWOK {
		step(2, func(ctx context.Context) error { return w.startKWOK(ctx, bins) })
	}
	if o.Metrics {
		step(3, func(ctx context.Context) error { return w.startMetricsServer(ctx, bins) })
	}
	if o.LocalPath {
		step(4, func(ctx context.Context) error { return w.startLocalPath(ctx, bins) })
	}
	if o.CoreDNS {
		step(5, func(ctx context.Context) error { return w.startCoreDNS(ctx, bins) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if o.S3 {
		s3, err := StartS3(ctx, w.Dir)
		if err != nil {
			return err
		}
		w.S3 = s3
		w.mu.Lock()
		w.procs = append(w.procs, s3.proc)
		w.mu.Unlock()
	}
	if o.Traefik {
		if err := w.startTraefik(ctx, bins); err != nil {
			return err
		}
	}
	if o.VPARecommender {
		return w.startVPARecommender(ctx, bins)
	}
	return nil
}

// run starts one process of the world.
func (w *World) run(name, bin string, args ...string) error {
	p, err := startProc(w.Dir, name, bin, args...)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.procs = append(w.procs, p)
	w.mu.Unlock()
	return nil
}

// deadProc returns an error for the first process that has exited.
func (w *World) deadProc() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.procs {
		if p.exited() {
			return p.diedError()
		}
	}
	return nil
}

// poll calls cond every interval until it returns true, ctx ends, or a
// process of the world dies; what describes the wait in the error.
func (w *World) poll(ctx context.Context, what string, cond func(context.Context) (bool, error)) error {
	var last error
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if err := w.deadProc(); err != nil {
			return false, err
		}
		ok, err := cond(ctx)
		if err != nil {
			last = err
			return false, nil
		}
		return ok, nil
	})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		if last != nil {
			return fmt.Errorf("test world: timed out waiting for %s (last error: %v); logs in %s", what, last, filepath.Join(w.Dir, "logs"))
		}
		return fmt.Errorf("test world: timed out waiting for %s; logs in %s", what, filepath.Join(w.Dir, "logs"))
	}
	return fmt.Errorf("test world: waiting for %s: %w", what, err)
}

func (w *World) waitAPIServer(ctx context.Context) error {
	return w.poll(ctx, "kube-apiserver /readyz", func(ctx context.Context) (bool, error) {
		_, err := w.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil, err
	})
}

func (w *World) writeKubeconfig() error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["testworld"] = &clientcmdapi.Cluster{
		Server:                   w.APIServerURL,
		CertificateAuthorityData: w.certs.ca.certPEM,
	}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: w.token}
	cfg.Contexts["testworld"] = &clientcmdapi.Context{Cluster: "testworld", AuthInfo: "admin", Namespace: "default"}
	cfg.CurrentContext = "testworld"
	return clientcmd.WriteToFile(*cfg, w.Kubeconfig)
}

// PIDs lists the process ids of the world's processes (each leads its own
// process group).
func (w *World) PIDs() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	var pids []int
	for _, p := range w.procs {
		pids = append(pids, p.Pid())
	}
	return pids
}

// Stop kills every process of the world (newest first) and removes its
// directories. It is safe to call more than once.
func (w *World) Stop() error {
	w.stopOnce.Do(func() {
		w.bg.stop()
		w.mu.Lock()
		procs := append([]*proc(nil), w.procs...)
		w.mu.Unlock()
		var errs []error
		for i := len(procs) - 1; i >= 0; i-- {
			if err := procs[i].stop(10 * time.Second); err != nil {
				errs = append(errs, err)
			}
		}
		if os.Getenv("TESTWORLD_KEEP") == "" {
			if err := os.RemoveAll(w.Dir); err != nil {
				errs = append(errs, err)
			}
		}
		if w.etcdDir != "" {
			if err := os.RemoveAll(w.etcdDir); err != nil {
				errs = append(errs, err)
			}
		}
		w.stopErr = errors.Join(errs...)
	})
	return w.stopErr
}

// StopAPIServer stops kube-apiserver only, for tests of what happens when
// the API goes away mid-run. Use it only in a world of your own.
func (w *World) StopAPIServer() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.procs {
		if p.name == "kube-apiserver" {
			return p.stop(10 * time.Second)
		}
	}
	return errors.New("test world: no kube-apiserver running")
}

// Namespace creates a fresh namespace for one test and deletes it when the
// test ends. With the controllers on it also waits for the namespace's
// default service account, so pods can be created straight away.
func (w *World) Namespace(t testing.TB) string {
	t.Helper()
	// A guard against a hang only: the service account controller of a busy
	// machine may take more than a minute.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns, err := w.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "t-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("test world: create namespace: %v", err)
	}
	name := ns.Name
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := w.Client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("test world: delete namespace %s: %v", name, err)
		}
	})
	if w.Options.Controllers {
		err := w.poll(ctx, "service account "+name+"/default", func(ctx context.Context) (bool, error) {
			_, err := w.Client.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
			return err == nil, err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return name
}

// freePorts reserves n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// shmOr returns /dev/shm when it is a usable directory, else fallback.
func shmOr(fallback string) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		f, err := os.CreateTemp("/dev/shm", "testworld-probe-")
		if err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return fallback
}

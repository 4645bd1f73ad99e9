package helmrender

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"migrate-tui/internal/manifest"
	"migrate-tui/internal/testtools"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// These tests belong to the mesh stage's Linkerd option
// (k8s/core/service-mesh/manifests/linkerd.yaml): the Linkerd charts cannot
// be rendered here (no Go module serves them), but what the repository adds
// around them can be run.

func linkerdObjects(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	for _, s := range stageStreams(t, "k8s/core/service-mesh", map[string]string{"service_mesh": "linkerd"}) {
		o, err := manifest.Decode([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o...)
	}
	return objs
}

func findObject(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("the Linkerd stream has no %s %s", kind, name)
	return nil
}

// containers returns a pod template's init containers and containers.
func containers(t *testing.T, o *unstructured.Unstructured, path ...string) []map[string]any {
	t.Helper()
	spec, _, _ := unstructured.NestedMap(o.Object, path...)
	var out []map[string]any
	for _, k := range []string{"initContainers", "containers"} {
		l, _ := spec[k].([]any)
		for _, c := range l {
			out = append(out, c.(map[string]any))
		}
	}
	return out
}

func argsOf(c map[string]any) string {
	var parts []string
	for _, k := range []string{"command", "args"} {
		l, _ := c[k].([]any)
		for _, a := range l {
			parts = append(parts, a.(string))
		}
	}
	return strings.Join(parts, " ")
}

var notAfter = regexp.MustCompile(`identity\.linkerd\.cluster\.local.*?--not-after (\d+)h`)

// TestLinkerdIssuerCanBeRotated: the issuer's validity outlives two missed
// monthly rotations, the trust anchor's key is kept (in a Secret) instead of
// deleted, and the linkerd-crds chart installs the Gateway API CRDs.
func TestLinkerdIssuerCanBeRotated(t *testing.T) {
	objs := linkerdObjects(t)
	job := findObject(t, objs, "Job", "linkerd-identity-bootstrap")
	var jobArgs []string
	for _, c := range containers(t, job, "spec", "template", "spec") {
		jobArgs = append(jobArgs, argsOf(c))
	}
	all := strings.Join(jobArgs, "\n")
	if strings.Contains(all, "rm /certs/ca.key") {
		t.Error("the bootstrap Job deletes the trust anchor's key: no issuer can be signed again")
	}
	if !strings.Contains(all, "secret tls linkerd-trust-anchor") || !strings.Contains(all, "--key=/certs/ca.key") {
		t.Errorf("the bootstrap Job does not keep the trust anchor (cert and key) in the Secret linkerd-trust-anchor:\n%s", all)
	}

	cron := findObject(t, objs, "CronJob", "linkerd-issuer-rotation")
	schedule, _, _ := unstructured.NestedString(cron.Object, "spec", "schedule")
	fields := strings.Fields(schedule)
	if len(fields) != 5 || fields[3] != "*" || fields[4] != "*" || strings.ContainsAny(fields[2], "*/,-") {
		t.Fatalf("rotation schedule %q is not once a month on a fixed day", schedule)
	}
	var cronArgs []string
	for _, c := range containers(t, cron, "spec", "jobTemplate", "spec", "template", "spec") {
		cronArgs = append(cronArgs, argsOf(c))
	}
	for where, args := range map[string]string{"bootstrap Job": all, "rotation CronJob": strings.Join(cronArgs, "\n")} {
		m := notAfter.FindStringSubmatch(args)
		if m == nil {
			t.Errorf("%s signs no issuer with --not-after", where)
			continue
		}
		hours, _ := strconv.Atoi(m[1])
		// A month is at most 31 days; two missed runs must not expire it.
		if hours < 3*31*24 {
			t.Errorf("%s: the issuer lives %dh, less than three monthly rotations", where, hours)
		}
	}

	crds := findObject(t, objs, "HelmChart", "linkerd-crds")
	vc, _, _ := unstructured.NestedString(crds.Object, "spec", "valuesContent")
	if !regexp.MustCompile(`(?m)^installGatewayAPI: true$`).MatchString(vc) {
		t.Errorf("linkerd-crds does not install the Gateway API CRDs (Linkerd 2.18+ needs them before the control plane): valuesContent %q", vc)
	}
}

// TestLinkerdRotationRuns runs the rotation on the test world: the
// repository's objects (besides the HelmCharts) are dry-run, then the
// rotation's RBAC is created for real and the CronJob's own script makes the
// patch (with a stand-in for the step binary that hands it an issuer signed
// here), which is applied as the CronJob's ServiceAccount. The issuer Secret
// must carry the new certificate, and that ServiceAccount must not be able to
// read the trust anchor's Secret through the API.
func TestLinkerdRotationRuns(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Fatal("sh not found")
	}
	objs := linkerdObjects(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs := world.Client
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "linkerd"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(world.RESTConfig)))
	r := &Rendered{Release: "mesh stage (linkerd)", Namespace: "linkerd"}
	for _, o := range objs {
		if o.GetKind() == "HelmChart" || o.GetKind() == "Namespace" {
			continue
		}
		if err := dryRunOne(ctx, world.Dynamic, mapper, r, o); err != nil {
			t.Errorf("%s: %v", describe(o), err)
		}
		if strings.HasPrefix(o.GetName(), "linkerd-issuer-rotation") && (o.GetKind() == "ServiceAccount" || o.GetKind() == "Role" || o.GetKind() == "RoleBinding") {
			m, err := mapper.RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := world.Dynamic.Resource(m.Resource).Namespace("linkerd").Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: "terraform", Force: true}); err != nil {
				t.Fatalf("apply %s: %v", describe(o), err)
			}
		}
	}

	anchorCert, anchorKey, anchor := newCA(t, "root.linkerd.cluster.local", nil, nil)
	oldIssuer, oldKey, _ := newCA(t, "identity.linkerd.cluster.local", anchor, anchorKey)
	for name, data := range map[string][2][]byte{"linkerd-trust-anchor": {anchorCert, pemKey(t, anchorKey)}, "linkerd-identity-issuer": {oldIssuer, pemKey(t, oldKey)}} {
		_, err := cs.CoreV1().Secrets("linkerd").Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": data[0], "tls.key": data[1]},
		}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}

	// The CronJob's script, with its volumes on temporary directories, run
	// by sh with the real step CLI at the image's tag (STEP_CLI_VERSION).
	cron := findObject(t, objs, "CronJob", "linkerd-issuer-rotation")
	var script string
	for _, c := range containers(t, cron, "spec", "jobTemplate", "spec", "template", "spec") {
		if c["name"] == "sign-issuer" {
			l, _ := c["args"].([]any)
			script = l[0].(string)
		}
	}
	if script == "" {
		t.Fatal("the CronJob has no sign-issuer script")
	}
	tmp := t.TempDir()
	certs, anchorDir := filepath.Join(tmp, "certs"), filepath.Join(tmp, "anchor")
	for _, d := range []string{certs, anchorDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string, b []byte) {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(anchorDir, "tls.crt"), anchorCert)
	write(filepath.Join(anchorDir, "tls.key"), pemKey(t, anchorKey))
	step, err := testtools.Bin("step")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Dir(step)
	script = strings.NewReplacer("/certs/", certs+"/", "/anchor/", anchorDir+"/").Replace(script)
	cmd := exec.Command("sh", "-ec", script)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the CronJob's script failed: %v\n%s", err, out)
	}
	patchYAML, err := os.ReadFile(filepath.Join(certs, "patch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// kubectl patch --patch-file converts YAML to JSON the same way
	// (k8s.io/kubectl pkg/cmd/patch).
	patch, err := yaml.ToJSON(patchYAML)
	if err != nil {
		t.Fatalf("patch.yaml is not YAML: %v\n%s", err, patchYAML)
	}
	sa := rest.CopyConfig(world.RESTConfig)
	sa.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:linkerd:linkerd-issuer-rotation",
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:linkerd", "system:authenticated"}}
	saClient, err := kubernetes.NewForConfig(sa)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := saClient.CoreV1().Secrets("linkerd").Patch(ctx, "linkerd-identity-issuer", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("the rotation's ServiceAccount cannot patch the issuer: %v", err)
	}
	got, err := cs.CoreV1().Secrets("linkerd").Get(ctx, "linkerd-identity-issuer", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(bytes.TrimSpace(got.Data["tls.crt"]), bytes.TrimSpace(oldIssuer)) {
		t.Error("linkerd-identity-issuer still holds the old issuer after the rotation")
	}
	if _, err := tls.X509KeyPair(got.Data["tls.crt"], got.Data["tls.key"]); err != nil {
		t.Errorf("the rotated tls.crt and tls.key are not a pair: %v", err)
	}
	if !bytes.Equal(bytes.TrimSpace(got.Data["ca.crt"]), bytes.TrimSpace(anchorCert)) {
		t.Error("the rotated issuer Secret's ca.crt is not the trust anchor")
	}
	block, _ := pem.Decode(got.Data["tls.crt"])
	if block == nil {
		t.Fatal("the rotated tls.crt is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.CheckSignatureFrom(anchor); err != nil {
		t.Errorf("the rotated issuer is not signed by the trust anchor: %v", err)
	}
	// What Linkerd's identity controller needs of an issuer: a CA for its
	// name, good for the rotation's 2400h (100 days, rotated monthly).
	if !cert.IsCA || cert.Subject.CommonName != "identity.linkerd.cluster.local" || cert.NotAfter.Sub(cert.NotBefore) < 2399*time.Hour {
		t.Errorf("rotated issuer: CA %v, CN %q, valid %s; want a CA for identity.linkerd.cluster.local valid 2400h", cert.IsCA, cert.Subject.CommonName, cert.NotAfter.Sub(cert.NotBefore))
	}
	if _, err := saClient.CoreV1().Secrets("linkerd").Get(ctx, "linkerd-trust-anchor", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the rotation's ServiceAccount can read the trust anchor's Secret through the API (want Forbidden): %v", err)
	}
}

func newCA(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) ([]byte, *ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key, cert
}

func pemKey(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

// The bootstrap Job's make-certificates script, run by sh with the real step
// CLI at the image's tag: it must leave a root CA and an issuer CA signed by
// it, each a matching certificate and key, as the Job's kubectl containers
// then store them.
func TestLinkerdBootstrapCertificatesWithStep(t *testing.T) {
	objs := linkerdObjects(t)
	job := findObject(t, objs, "Job", "linkerd-identity-bootstrap")
	var script string
	for _, c := range containers(t, job, "spec", "template", "spec") {
		if c["name"] == "make-certificates" {
			l, _ := c["args"].([]any)
			script = l[0].(string)
		}
	}
	if script == "" {
		t.Fatal("the bootstrap Job has no make-certificates script")
	}
	step, err := testtools.Bin("step")
	if err != nil {
		t.Fatal(err)
	}
	certs := t.TempDir()
	cmd := exec.Command("sh", "-ec", strings.ReplaceAll(script, "/certs/", certs+"/"))
	// As in the pod: uid 65532 has no writable home, and no STEPPATH is set.
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(step)+":"+os.Getenv("PATH"), "HOME=/nonexistent", "STEPPATH=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make-certificates failed with step: %v\n%s", err, out)
	}
	load := func(name string) (*x509.Certificate, []byte, []byte) {
		crt, err1 := os.ReadFile(filepath.Join(certs, name+".crt"))
		key, err2 := os.ReadFile(filepath.Join(certs, name+".key"))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", name, err1, err2)
		}
		if _, err := tls.X509KeyPair(crt, key); err != nil {
			t.Fatalf("%s.crt and %s.key are not a pair (the key must be unencrypted for kubectl create secret tls): %v", name, name, err)
		}
		block, _ := pem.Decode(crt)
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c, crt, key
	}
	ca, _, _ := load("ca")
	issuer, _, _ := load("issuer")
	if !ca.IsCA || ca.Subject.CommonName != "root.linkerd.cluster.local" {
		t.Errorf("trust anchor: CA %v, CN %q", ca.IsCA, ca.Subject.CommonName)
	}
	if err := issuer.CheckSignatureFrom(ca); err != nil || !issuer.IsCA || issuer.Subject.CommonName != "identity.linkerd.cluster.local" {
		t.Errorf("issuer: signed by the anchor: %v; CA %v, CN %q", err, issuer.IsCA, issuer.Subject.CommonName)
	}
}

// The step CLI the tests run is the one the Jobs' image carries.
func TestStepCLIPinMatchesImage(t *testing.T) {
	v, err := testtools.Version("STEP_CLI_VERSION")
	if err != nil {
		t.Fatal(err)
	}
	root, err := testtools.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tf, err := os.ReadFile(filepath.Join(root, "k8s", "core", "service-mesh", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `"smallstep/step-cli:` + strings.TrimPrefix(v, "v") + `"`; !strings.Contains(string(tf), want) {
		t.Errorf("k8s/core/service-mesh/main.tf does not run %s (STEP_CLI_VERSION %s in hack/versions.env): keep them equal", want, v)
	}
}

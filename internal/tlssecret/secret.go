package tlssecret

import (
	"bytes"
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/decisions/decide"
	"migrate-tui/internal/faultpoint"
)

// ManagedBy labels what this package writes.
const ManagedBy = "migrate-tui"

// Target is where the Secret goes and the domain it must cover, as the
// ingress module sees them.
type Target struct {
	Domain      string
	Namespace   string // "" when the ingress mode serves no TLSStore
	Name        string
	IngressMode string
}

// Needed reports whether the ingress stage needs the Secret.
func (t Target) Needed() bool { return t.Namespace != "" }

// IngressNamespace is the namespace of the default TLSStore for an ingress
// mode, as in k8s/ingress/main.tf ("" for external-direct: no TLSStore).
func IngressNamespace(mode string) string {
	switch mode {
	case "traefik-behind-external":
		return "traefik"
	case "bundled-traefik":
		return "kube-system"
	}
	return ""
}

// TargetFromTfvars reads domain, tls_secret_name and ingress_mode from
// terraform.tfvars (the kubeconfig is internal/connect's), with the variables.tf defaults for
// keys it does not set. A missing file means all defaults.
func TargetFromTfvars(path string) (Target, error) {
	found := decisions.Answers{}
	if _, err := os.Stat(path); err == nil {
		f, _, err := decide.FromTfvars(path)
		if err != nil {
			return Target{}, err
		}
		found = f
	}
	val := func(k string) string {
		if v := found.Str(k); v != "" {
			return v
		}
		if d := decisions.Get(k); d != nil {
			s, _ := d.Default.(string)
			return s
		}
		return ""
	}
	t := Target{Domain: val("domain"), Name: val("tls_secret_name"), IngressMode: val("ingress_mode")}
	t.Namespace = IngressNamespace(t.IngressMode)
	return t, nil
}

// Result says what Apply did: created, updated or unchanged.
type Result string

const (
	Created   Result = "created"
	Updated   Result = "updated"
	Unchanged Result = "unchanged"
)

// Apply creates or updates the kubernetes.io/tls Secret t.Namespace/t.Name
// from m (creating the namespace when it does not exist yet: the ingress
// stage, which owns it, runs after). Call Validate first.
func Apply(ctx context.Context, kube kubernetes.Interface, t Target, m *Material) (Result, error) {
	if t.Namespace == "" || t.Name == "" {
		return "", fmt.Errorf("no namespace or Secret name to write the certificate to")
	}
	if _, err := kube.CoreV1().Namespaces().Get(ctx, t.Namespace, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: t.Namespace}}
		if _, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{FieldManager: ManagedBy}); err != nil && !apierrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("creating namespace %s for the TLS Secret: %w", t.Namespace, err)
		}
	} else if err != nil {
		return "", fmt.Errorf("reading namespace %s: %w", t.Namespace, err)
	}
	faultpoint.Hit(faultpoint.TLSAfterNamespace)
	want := map[string][]byte{corev1.TLSCertKey: m.certPEM, corev1.TLSPrivateKeyKey: m.keyPEM}
	secrets := kube.CoreV1().Secrets(t.Namespace)
	cur, err := secrets.Get(ctx, t.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: t.Name, Namespace: t.Namespace, Labels: map[string]string{"app.kubernetes.io/managed-by": ManagedBy}},
			Type:       corev1.SecretTypeTLS,
			Data:       want,
		}
		if _, err := secrets.Create(ctx, s, metav1.CreateOptions{FieldManager: ManagedBy}); err != nil {
			return "", fmt.Errorf("creating Secret %s/%s: %w", t.Namespace, t.Name, err)
		}
		return Created, nil
	}
	if err != nil {
		return "", fmt.Errorf("reading Secret %s/%s: %w", t.Namespace, t.Name, err)
	}
	if cur.Type != corev1.SecretTypeTLS {
		return "", fmt.Errorf("Secret %s/%s exists with type %s, not %s (a Secret's type cannot change): delete it (kubectl -n %s delete secret %s) or choose another tls_secret_name, then retry",
			t.Namespace, t.Name, cur.Type, corev1.SecretTypeTLS, t.Namespace, t.Name)
	}
	same := len(cur.Data) == 2 && bytes.Equal(cur.Data[corev1.TLSCertKey], want[corev1.TLSCertKey]) &&
		bytes.Equal(cur.Data[corev1.TLSPrivateKeyKey], want[corev1.TLSPrivateKeyKey]) &&
		cur.Labels["app.kubernetes.io/managed-by"] == ManagedBy
	if same {
		return Unchanged, nil
	}
	cur = cur.DeepCopy()
	cur.Data = want
	cur.StringData = nil
	if cur.Labels == nil {
		cur.Labels = map[string]string{}
	}
	cur.Labels["app.kubernetes.io/managed-by"] = ManagedBy
	if _, err := secrets.Update(ctx, cur, metav1.UpdateOptions{FieldManager: ManagedBy}); err != nil {
		return "", fmt.Errorf("updating Secret %s/%s: %w", t.Namespace, t.Name, err)
	}
	return Updated, nil
}

// MissingError is the ingress stage's refusal: the TLSStore would name a
// Secret that is not there.
type MissingError struct {
	Namespace, Name, Problem string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("the default TLSStore serves Secret %s/%s (tls_secret_name), but it %s. Create it from the wildcard certificate with `migrate-tui tls-secret --acme-json PATH` (or --cert FILE --key FILE), then run the ingress stage again",
		e.Namespace, e.Name, e.Problem)
}

// Check is the ingress stage's pre-apply check: when the ingress mode serves
// a TLSStore, its Secret must exist with type kubernetes.io/tls and both keys.
func Check(ctx context.Context, kube kubernetes.Interface, t Target) error {
	if !t.Needed() {
		return nil
	}
	s, err := kube.CoreV1().Secrets(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return &MissingError{Namespace: t.Namespace, Name: t.Name, Problem: "does not exist"}
	case err != nil:
		return fmt.Errorf("reading Secret %s/%s (tls_secret_name) before the ingress stage: %w", t.Namespace, t.Name, err)
	case s.Type != corev1.SecretTypeTLS:
		return &MissingError{Namespace: t.Namespace, Name: t.Name, Problem: fmt.Sprintf("has type %s, not %s", s.Type, corev1.SecretTypeTLS)}
	case len(s.Data[corev1.TLSCertKey]) == 0 || len(s.Data[corev1.TLSPrivateKeyKey]) == 0:
		return &MissingError{Namespace: t.Namespace, Name: t.Name, Problem: "lacks tls.crt or tls.key"}
	}
	return nil
}

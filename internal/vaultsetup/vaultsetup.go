// Package vaultsetup does the Vault side of the vault stage through
// github.com/hashicorp/vault/api, idempotently: Kubernetes auth enabled at
// the configured mount and configured with the cluster's address, CA and
// the token reviewer's JWT (read from its Secret, never logged or stored by
// migrate-tui), the PoC policies and the roles binding the service accounts.
package vaultsetup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/vault/api"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"migrate-tui/internal/faultpoint"
)

// SecretRef names the token reviewer's Secret.
type SecretRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"secret"`
}

// Role is a Kubernetes-auth role.
type Role struct {
	ServiceAccounts []string `json:"service_accounts"`
	Namespaces      []string `json:"namespaces"`
	Policies        []string `json:"policies"`
}

// Config is what the Vault side needs; ConfigFromOutputs builds it from the
// root module's outputs so Terraform stays the one source.
type Config struct {
	AuthMount      string
	KubernetesHost string
	// CACert is the cluster CA (PEM); empty means the Secret's ca.crt.
	CACert        string
	TokenReviewer SecretRef
	Policies      map[string]string
	Roles         map[string]Role
	// Adopt lets migrate-tui take over an auth mount or policies of the
	// same name it did not create (MIGRATE_TUI_VAULT_ADOPT=1).
	Adopt bool
}

// AdoptEnv, set to 1, lets the vault stage take over an existing auth
// mount or policies of the same name.
const AdoptEnv = "MIGRATE_TUI_VAULT_ADOPT"

// ownerMark marks what migrate-tui created in Vault: the auth mount's
// description and a first line in each policy it writes.
const (
	ownerMark    = "migrate-tui"
	policyHeader = "# Managed by migrate-tui (vault stage); changes here are overwritten.\n"
)

// reviewerMark is a short fingerprint of the token reviewer JWT kept in the
// auth mount's description: Vault never returns the JWT, so this is how a
// rotated token is noticed and pushed. 12 hex digits of SHA-256 say nothing
// about the token.
func reviewerMark(jwt string) string {
	sum := sha256.Sum256([]byte(jwt))
	return "reviewer sha256:" + hex.EncodeToString(sum[:])[:12]
}

// OwnershipError: something of the same name exists in Vault that
// migrate-tui did not create.
type OwnershipError struct{ What, Found string }

func (e *OwnershipError) Error() string {
	return fmt.Sprintf("Vault already has %s that migrate-tui did not create (%s); it was left alone. Choose another name in the decisions (vault_auth_mount, the services), or let migrate-tui take it over: %s=1 and retry the vault stage", e.What, e.Found, AdoptEnv)
}

// ConfigFromOutputs reads vault_token_reviewer, vault_policies and
// vault_roles from `output -json` values (name -> raw JSON value).
func ConfigFromOutputs(outputs map[string]json.RawMessage, kubernetesHost string) (Config, error) {
	c := Config{KubernetesHost: kubernetesHost, Adopt: os.Getenv(AdoptEnv) == "1"}
	var tr struct {
		SecretRef
		AuthMount string `json:"auth_mount"`
	}
	raw, ok := outputs["vault_token_reviewer"]
	if !ok || string(raw) == "null" {
		return c, errors.New("the Terraform output vault_token_reviewer is empty: apply the vault stage's Terraform part first")
	}
	if err := json.Unmarshal(raw, &tr); err != nil {
		return c, fmt.Errorf("output vault_token_reviewer: %w", err)
	}
	c.TokenReviewer, c.AuthMount = tr.SecretRef, tr.AuthMount
	if err := json.Unmarshal(outputs["vault_policies"], &c.Policies); err != nil {
		return c, fmt.Errorf("output vault_policies: %w", err)
	}
	if err := json.Unmarshal(outputs["vault_roles"], &c.Roles); err != nil {
		return c, fmt.Errorf("output vault_roles: %w", err)
	}
	return c, nil
}

// Logical is the part of *api.Logical used here.
type Logical interface {
	ReadWithContext(ctx context.Context, path string) (*api.Secret, error)
	WriteWithContext(ctx context.Context, path string, data map[string]any) (*api.Secret, error)
}

// Sys is the part of *api.Sys used here.
type Sys interface {
	ListAuthWithContext(ctx context.Context) (map[string]*api.AuthMount, error)
	EnableAuthWithOptionsWithContext(ctx context.Context, path string, options *api.EnableAuthOptions) error
	GetPolicyWithContext(ctx context.Context, name string) (string, error)
	TuneMountAllowNilWithContext(ctx context.Context, path string, config api.TuneMountConfigInput) error
	PutPolicyWithContext(ctx context.Context, name, rules string) error
}

// Vault is a Vault client reduced to what the stage uses.
type Vault struct {
	Sys     Sys
	Logical Logical
}

// FromClient wraps a vault/api client.
func FromClient(c *api.Client) Vault { return Vault{Sys: c.Sys(), Logical: c.Logical()} }

// Apply brings Vault in line with c and returns what it changed (empty on a
// second run). Log, if set, gets one line per change; secrets never appear.
func Apply(ctx context.Context, v Vault, k kubernetes.Interface, c Config, log io.Writer) ([]string, error) {
	if log == nil {
		log = io.Discard
	}
	mount := strings.Trim(c.AuthMount, "/")
	if mount == "" {
		return nil, errors.New("no Vault auth mount given (vault_auth_mount)")
	}
	var changes []string
	note := func(s string) { changes = append(changes, s); fmt.Fprintln(log, s) }

	mounts, err := v.Sys.ListAuthWithContext(ctx)
	if err != nil {
		return nil, vaultErr("listing auth methods (sys/auth)", err)
	}
	desc := ""
	if m, ok := mounts[mount+"/"]; ok {
		if m.Type != "kubernetes" {
			return nil, fmt.Errorf("Vault already has a %s auth method at %s/: choose another vault_auth_mount", m.Type, mount)
		}
		if !strings.Contains(m.Description, ownerMark) && !c.Adopt {
			return nil, &OwnershipError{What: "a Kubernetes auth method at " + mount + "/", Found: fmt.Sprintf("its description is %q", m.Description)}
		}
		desc = m.Description
	} else {
		if err := v.Sys.EnableAuthWithOptionsWithContext(ctx, mount, &api.EnableAuthOptions{Type: "kubernetes", Description: "K3s cluster (migrate-tui)"}); err != nil {
			return nil, vaultErr("enabling Kubernetes auth at "+mount+"/", err)
		}
		note("enabled Kubernetes auth at " + mount + "/")
	}

	faultpoint.Hit(faultpoint.VaultAfterAuthEnable)
	jwt, ca, err := reviewerToken(ctx, k, c.TokenReviewer)
	if err != nil {
		return changes, err
	}
	mark := reviewerMark(jwt)
	if c.CACert != "" {
		ca = c.CACert
	}
	cfgPath := "auth/" + mount + "/config"
	cur, err := v.Logical.ReadWithContext(ctx, cfgPath)
	if err != nil {
		return changes, vaultErr("reading "+cfgPath, err)
	}
	if cur == nil || cur.Data == nil || str(cur.Data["kubernetes_host"]) != c.KubernetesHost ||
		strings.TrimSpace(str(cur.Data["kubernetes_ca_cert"])) != strings.TrimSpace(ca) || cur.Data["token_reviewer_jwt_set"] != true ||
		!strings.Contains(desc, mark) {
		if _, err := v.Logical.WriteWithContext(ctx, cfgPath, map[string]any{
			"kubernetes_host":    c.KubernetesHost,
			"kubernetes_ca_cert": ca,
			"token_reviewer_jwt": jwt,
		}); err != nil {
			return changes, vaultErr("writing "+cfgPath, err)
		}
		note(fmt.Sprintf("configured %s: kubernetes_host %s, the cluster CA and the token reviewer %s/%s's token", cfgPath, c.KubernetesHost, c.TokenReviewer.Namespace, c.TokenReviewer.Name))
		// Remember which reviewer token Vault holds (and that the mount is
		// migrate-tui's), so a rotated token is pushed on the next run.
		d := "K3s cluster (" + ownerMark + "; " + mark + ")"
		if err := v.Sys.TuneMountAllowNilWithContext(ctx, "auth/"+mount, api.TuneMountConfigInput{Description: &d}); err != nil {
			return changes, vaultErr("recording the reviewer token's fingerprint in the description of auth/"+mount, err)
		}
	}
	faultpoint.Hit(faultpoint.VaultAfterConfig)

	for _, name := range sortedKeys(c.Policies) {
		want := policyHeader + c.Policies[name]
		have, err := v.Sys.GetPolicyWithContext(ctx, name)
		if err != nil {
			return changes, vaultErr("reading policy "+name, err)
		}
		if strings.TrimSpace(have) == strings.TrimSpace(want) {
			continue
		}
		if strings.TrimSpace(have) != "" && !strings.HasPrefix(have, policyHeader) && !c.Adopt {
			return changes, &OwnershipError{What: "a policy named " + name, Found: "it has no migrate-tui header and differs from what the vault stage would write"}
		}
		if err := v.Sys.PutPolicyWithContext(ctx, name, want); err != nil {
			return changes, vaultErr("writing policy "+name, err)
		}
		note("wrote policy " + name)
	}

	for _, name := range sortedKeys(c.Roles) {
		r := c.Roles[name]
		path := "auth/" + mount + "/role/" + name
		cur, err := v.Logical.ReadWithContext(ctx, path)
		if err != nil {
			return changes, vaultErr("reading "+path, err)
		}
		if cur != nil && sameSet(cur.Data["bound_service_account_names"], r.ServiceAccounts) &&
			sameSet(cur.Data["bound_service_account_namespaces"], r.Namespaces) && sameSet(cur.Data["token_policies"], r.Policies) {
			continue
		}
		if _, err := v.Logical.WriteWithContext(ctx, path, map[string]any{
			"bound_service_account_names":      strings.Join(r.ServiceAccounts, ","),
			"bound_service_account_namespaces": strings.Join(r.Namespaces, ","),
			"token_policies":                   strings.Join(r.Policies, ","),
		}); err != nil {
			return changes, vaultErr("writing "+path, err)
		}
		note(fmt.Sprintf("wrote role %s: service accounts %s in %s, policies %s", name, strings.Join(r.ServiceAccounts, ","), strings.Join(r.Namespaces, ","), strings.Join(r.Policies, ",")))
	}
	return changes, nil
}

// reviewerToken reads the token reviewer's long-lived token and the cluster
// CA from its Secret. The token is returned only to be sent to Vault.
func reviewerToken(ctx context.Context, k kubernetes.Interface, ref SecretRef) (jwt, ca string, err error) {
	s, err := k.CoreV1().Secrets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", "", fmt.Errorf("the token reviewer Secret %s/%s does not exist: apply the vault stage's Terraform part first", ref.Namespace, ref.Name)
	}
	if err != nil {
		return "", "", fmt.Errorf("reading the token reviewer Secret %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	jwt, ca = string(s.Data["token"]), string(s.Data["ca.crt"])
	if jwt == "" {
		return "", "", fmt.Errorf("the token reviewer Secret %s/%s has no token yet (the API server's token controller fills it): wait a moment and retry", ref.Namespace, ref.Name)
	}
	return jwt, ca, nil
}

// vaultErr turns a vault/api error into a sentence with the next step.
func vaultErr(what string, err error) error {
	var re *api.ResponseError
	if errors.As(err, &re) {
		hint := ""
		switch re.StatusCode {
		case 403:
			hint = ": the Vault token lacks permission; use a token allowed to manage sys/auth, sys/policies/acl and auth/* (VAULT_TOKEN)"
		case 503:
			hint = ": Vault is sealed or not ready; unseal it and retry"
		}
		return fmt.Errorf("%s: Vault answered %d %s%s", what, re.StatusCode, strings.Join(re.Errors, "; "), hint)
	}
	return fmt.Errorf("%s: %w (is VAULT_ADDR right and Vault reachable?)", what, err)
}

func str(v any) string { s, _ := v.(string); return s }

func sameSet(have any, want []string) bool {
	var h []string
	switch x := have.(type) {
	case []any:
		for _, e := range x {
			h = append(h, str(e))
		}
	case []string:
		h = x
	case string:
		if x != "" {
			h = strings.Split(x, ",")
		}
	default:
		return false
	}
	a, b := slices.Clone(h), slices.Clone(want)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

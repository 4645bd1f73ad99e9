// Package nomadwatch reads what migrate-tui needs from Nomad: the node
// inventory, a baseline of every job's health, and what changed since that
// baseline (the no-disruption criterion SC-005 and the Nomad guard around
// every stage), plus per-node memory for the overhead comparison (SC-010).
package nomadwatch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// Nomad is the part of the Nomad HTTP API this package reads. *Client
// implements it over github.com/hashicorp/nomad/api.
type Nomad interface {
	// Address is the Nomad address, for messages.
	Address() string
	Nodes(ctx context.Context) ([]*api.NodeListStub, error)
	Node(ctx context.Context, id string) (*api.Node, error)
	// Jobs lists jobs in every namespace.
	Jobs(ctx context.Context) ([]*api.JobListStub, error)
	// Allocations lists allocations in every namespace, with their
	// AllocatedResources.
	Allocations(ctx context.Context) ([]*api.AllocationListStub, error)
	// NodeStats is the host usage a client reports (/v1/client/stats?node_id=).
	NodeStats(ctx context.Context, nodeID string) (*api.HostStats, error)
	// AllocStats is one allocation's measured usage.
	AllocStats(ctx context.Context, allocID string) (*api.AllocResourceUsage, error)
}

// ReadPolicy is a Nomad ACL policy that grants everything this package
// reads. Hints point operators at it.
const ReadPolicy = `namespace "*" {
  policy = "read"
}
node {
  policy = "read"
}
agent {
  policy = "read"
}`

// Capabilities named in permission errors.
const (
	capNodeRead      = `node { policy = "read" }`
	capNamespaceRead = `namespace "*" { policy = "read" }`
)

// ErrUnreachable matches (errors.Is) every *UnreachableError.
var ErrUnreachable = errors.New("nomad unreachable")

// ErrPermission matches (errors.Is) every *PermissionError.
var ErrPermission = errors.New("nomad permission denied")

// UnreachableError: the request never got an HTTP answer.
type UnreachableError struct {
	Addr string // the Nomad address tried
	Op   string // what was being read, e.g. "list nodes"
	Err  error  // what failed underneath
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("Nomad at %s did not answer (%s): %v. %s", e.Addr, e.Op, e.Err, e.hint())
}

func (e *UnreachableError) hint() string {
	var unknownCA x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	var hostname x509.HostnameError
	msg := e.Err.Error()
	switch {
	case errors.As(e.Err, &unknownCA), errors.As(e.Err, &verify) && !errors.As(e.Err, &hostname):
		return "Nomad's TLS certificate is not trusted: set NOMAD_CACERT to the CA file that signed it (NOMAD_SKIP_VERIFY=true only to test)."
	case errors.As(e.Err, &hostname):
		return "Nomad's TLS certificate does not name this address: set NOMAD_TLS_SERVER_NAME (e.g. server.global.nomad) or use an address in the certificate."
	case strings.Contains(msg, "HTTP response to HTTPS client"):
		return "Nomad speaks plain HTTP there: use http:// in NOMAD_ADDR."
	case strings.Contains(msg, "malformed HTTP response"), strings.Contains(msg, "tls: "):
		return "Nomad may require TLS there: use https:// in NOMAD_ADDR and set NOMAD_CACERT (and NOMAD_CLIENT_CERT/NOMAD_CLIENT_KEY if it verifies clients)."
	default:
		return "Check that Nomad is running and that NOMAD_ADDR points at its HTTP API (e.g. http://192.168.1.5:4646)."
	}
}

func (e *UnreachableError) Unwrap() error        { return e.Err }
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// PermissionError: Nomad answered 403.
type PermissionError struct {
	Addr     string
	Op       string // what was refused, e.g. "list nodes"
	Needed   string // the ACL rule that grants it
	Reason   string // Nomad's body: "Permission denied" or "ACL token not found"
	TokenSet bool   // whether a token was sent at all
}

func (e *PermissionError) Error() string {
	switch {
	case !e.TokenSet:
		return fmt.Sprintf("Nomad at %s refused to %s (403 %s): no token was sent. Set NOMAD_TOKEN to a token whose policy grants %s (read on namespace \"*\", node and agent covers everything migrate-tui reads).",
			e.Addr, e.Op, e.Reason, e.Needed)
	case strings.Contains(e.Reason, "token not found"):
		return fmt.Sprintf("Nomad at %s refused to %s (403 %s): NOMAD_TOKEN is not a token this Nomad knows. Set it to the secret ID of a valid token (nomad acl token self shows what a token is).",
			e.Addr, e.Op, e.Reason)
	default:
		return fmt.Sprintf("Nomad at %s refused to %s (403 %s): the token in NOMAD_TOKEN lacks %s. Attach a policy granting it (read on namespace \"*\", node and agent covers everything migrate-tui reads) with nomad acl policy apply and nomad acl token update.",
			e.Addr, e.Op, e.Reason, e.Needed)
	}
}

func (e *PermissionError) Is(target error) bool { return target == ErrPermission }

// APIError: Nomad answered with another unexpected status.
type APIError struct {
	Addr   string
	Op     string
	Status int
	Body   string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("Nomad at %s answered %d to %s: %s", e.Addr, e.Status, e.Op, e.Body)
}

// Client implements Nomad over the official client.
type Client struct {
	api      *api.Client
	addr     string
	tokenSet bool
}

// NewClient builds a client from the standard environment (NOMAD_ADDR,
// NOMAD_TOKEN, NOMAD_CACERT, NOMAD_CLIENT_CERT, NOMAD_CLIENT_KEY,
// NOMAD_SKIP_VERIFY, ... via api.DefaultConfig); a non-empty addr or token
// overrides the environment's. It does not contact Nomad: Ping does.
func NewClient(addr, token string) (*Client, error) {
	cfg := api.DefaultConfig()
	if addr != "" {
		cfg.Address = addr
	}
	if token != "" {
		cfg.SecretID = token
	}
	return NewClientFromConfig(cfg)
}

// NewClientFromConfig builds a client from an explicit api.Config.
func NewClientFromConfig(cfg *api.Config) (*Client, error) {
	if _, err := url.Parse(cfg.Address); err != nil {
		return nil, fmt.Errorf("NOMAD_ADDR %q is not a URL: %v. Set it like http://192.168.1.5:4646", cfg.Address, err)
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		hint := ""
		if cfg.TLSConfig != nil && (cfg.TLSConfig.CACert != "" || cfg.TLSConfig.ClientCert != "") {
			hint = fmt.Sprintf(" Check NOMAD_CACERT (%q), NOMAD_CLIENT_CERT (%q) and NOMAD_CLIENT_KEY (%q) name readable PEM files.",
				cfg.TLSConfig.CACert, cfg.TLSConfig.ClientCert, cfg.TLSConfig.ClientKey)
		}
		return nil, fmt.Errorf("set up a Nomad client for %s: %w.%s", cfg.Address, err, hint)
	}
	return &Client{api: c, addr: cfg.Address, tokenSet: cfg.SecretID != ""}, nil
}

// Wrap adapts a client built elsewhere; tokenSet says whether it carries a
// token (only for the wording of 403 errors).
func Wrap(c *api.Client, tokenSet bool) *Client {
	return &Client{api: c, addr: c.Address(), tokenSet: tokenSet}
}

// API is the underlying nomad/api client, for calls outside Nomad.
func (c *Client) API() *api.Client { return c.api }

func (c *Client) Address() string { return c.addr }

// wrap turns a nomad/api error into one of this package's errors.
func (c *Client) wrap(op, needed string, err error) error {
	if err == nil {
		return nil
	}
	var ure api.UnexpectedResponseError
	if errors.As(err, &ure) && ure.HasStatusCode() {
		body := strings.TrimSpace(ure.Body())
		if ure.StatusCode() == 403 {
			return &PermissionError{Addr: c.addr, Op: op, Needed: needed, Reason: body, TokenSet: c.tokenSet}
		}
		return &APIError{Addr: c.addr, Op: op, Status: ure.StatusCode(), Body: body}
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s at %s: %w", op, c.addr, err)
	}
	var netErr net.Error
	var urlErr *url.Error
	if errors.As(err, &urlErr) || errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return &UnreachableError{Addr: c.addr, Op: op, Err: err}
	}
	return fmt.Errorf("%s at %s: %w", op, c.addr, err)
}

func query(ctx context.Context, allNamespaces bool, params map[string]string) *api.QueryOptions {
	q := &api.QueryOptions{Params: params}
	if allNamespaces {
		q.Namespace = api.AllNamespacesNamespace
	}
	return q.WithContext(ctx)
}

// Ping checks Nomad answers and knows a leader.
func (c *Client) Ping(ctx context.Context) error {
	var leader string
	if _, err := c.api.Raw().Query("/v1/status/leader", &leader, query(ctx, false, nil)); err != nil {
		return c.wrap("read the cluster leader", "no capability (any valid token)", err)
	}
	if leader == "" {
		return fmt.Errorf("Nomad at %s has no leader: the servers have lost quorum; fix the Nomad servers first", c.addr)
	}
	return nil
}

// CheckAccess reads one thing per capability migrate-tui needs and returns
// the first refusal: a preflight that fails with the capability to add.
func (c *Client) CheckAccess(ctx context.Context) error {
	if _, err := c.Nodes(ctx); err != nil {
		return err
	}
	if _, err := c.Jobs(ctx); err != nil {
		return err
	}
	_, err := c.Allocations(ctx)
	return err
}

func (c *Client) Nodes(ctx context.Context) ([]*api.NodeListStub, error) {
	out, _, err := c.api.Nodes().List(query(ctx, false, map[string]string{"resources": "true"}))
	return out, c.wrap("list nodes", capNodeRead, err)
}

func (c *Client) Node(ctx context.Context, id string) (*api.Node, error) {
	out, _, err := c.api.Nodes().Info(id, query(ctx, false, nil))
	return out, c.wrap("read node "+short(id), capNodeRead, err)
}

func (c *Client) Jobs(ctx context.Context) ([]*api.JobListStub, error) {
	out, _, err := c.api.Jobs().List(query(ctx, true, nil))
	return out, c.wrap("list jobs", capNamespaceRead, err)
}

// Job reads one job's full specification (e.g. its task resources).
func (c *Client) Job(ctx context.Context, id string) (*api.Job, error) {
	out, _, err := c.api.Jobs().Info(id, query(ctx, false, nil))
	return out, c.wrap("read job "+id, capNamespaceRead, err)
}

func (c *Client) Allocations(ctx context.Context) ([]*api.AllocationListStub, error) {
	out, _, err := c.api.Allocations().List(query(ctx, true, map[string]string{"resources": "true"}))
	return out, c.wrap("list allocations", capNamespaceRead, err)
}

func (c *Client) NodeStats(ctx context.Context, nodeID string) (*api.HostStats, error) {
	out, err := c.api.Nodes().Stats(nodeID, query(ctx, false, nil))
	return out, c.wrap("read client stats of node "+short(nodeID), capNodeRead, err)
}

func (c *Client) AllocStats(ctx context.Context, allocID string) (*api.AllocResourceUsage, error) {
	out, err := c.api.Allocations().Stats(&api.Allocation{ID: allocID}, query(ctx, false, nil))
	return out, c.wrap("read stats of allocation "+short(allocID), capNamespaceRead, err)
}

// short is the 8-character ID prefix Nomad's CLI shows.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// Package nomadsim is a stand-in Nomad server for tests and the sandbox: an
// HTTP server on loopback that serves the real github.com/hashicorp/nomad/api
// wire types, so an unmodified nomad/api client works against it.
//
// It keeps one thread-safe state with a single, monotonically increasing
// index (real Nomad keeps one per table; one is enough for blocking queries),
// checks X-Nomad-Token on every request like Nomad with ACLs on, and lets
// tests change the state (an allocation fails, a task restarts, a job stops,
// a node goes down).
//
// Served: agent/self, status/leader and peers, nodes (list, read, their
// allocations), jobs (list with ?prefix=, read, summary, register with PUT
// or POST, stop and ?purge=true with DELETE, allocations, deployments,
// latest deployment), allocations (list, read), deployments, services
// (nomad-provider registrations), client stats (?node_id= as a server
// forwarding to the client) and allocation stats. Lists honour
// ?namespace= (including "*") and ?resources=true where Nomad does.
//
// The seed (New without Options.Empty) is the operator's homelab in small:
// hestia (amd64, 32 GiB), heracles and nyx (arm64, 8 GiB); traefik (system,
// hestia), whoami (2), the echo pair behind Consul Connect sidecars, minio
// and plex on GlusterFS CSI volumes, overseerr, vaultwarden and open-webui
// with Litestream restore and replicate tasks, and the periodic backup with
// one finished run. Connect services are Consul's, so /v1/services lists
// only the nomad-provider ones. IDs are derived from the seed, so they are
// the same in every run.
package nomadsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/nomad/api"
)

// Options configures a Server.
type Options struct {
	// Token is the management token every request must carry in
	// X-Nomad-Token. Empty means ACLs are off and every request is allowed.
	Token string
	// ReadOnlyToken, when set, is a second token that may read everything
	// but gets 403 on writes, like a token holding only read policies.
	ReadOnlyToken string
	// ReadTokens are more read-only tokens, each limited to GETs of the
	// listed path prefixes (e.g. "/v1/job"); anything else is 403
	// "Permission denied", like a token whose policy lacks a capability.
	ReadTokens map[string][]string
	// Empty starts the server with the three nodes but no jobs.
	Empty bool
	// Now is the clock for events made by mutators; default time.Now.
	Now func() time.Time
	// Audit, when set, sees every request (method and path) before the
	// ACL check, whether it is then allowed or not: a test counts the
	// writes a client attempted (sandbox up --nomad-from must make none).
	Audit func(method, path string)
}

// Server is a running (or ready to run) simulated Nomad agent.
type Server struct {
	opts Options

	mu      sync.Mutex
	index   uint64
	changed chan struct{} // closed and replaced on every index bump
	nodes   []*api.Node   // in creation order
	jobs    map[string]*api.Job
	allocs  []*api.Allocation // in creation order
	deploys []*api.Deployment
	svcs    []*api.ServiceRegistration
	seq     int  // makes deterministic IDs
	seeding bool // while true, now() is a fixed clock

	ln        net.Listener
	srv       *http.Server
	url       string
	done      chan struct{} // closed by Close: blocking queries answer at once
	closeOnce sync.Once
}

// New returns a server seeded with the homelab (HomelabSeed) unless
// o.Empty. Call Start to serve it.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{
		opts:    o,
		changed: make(chan struct{}),
		jobs:    map[string]*api.Job{},
		done:    make(chan struct{}),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seeding = true
	seedNodes(s)
	if !o.Empty {
		seedJobs(s)
	}
	s.seeding = false
	return s
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("nomadsim: listen on %s: %w", addr, err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

// URL is the address to put in NOMAD_ADDR, e.g. http://127.0.0.1:40123.
func (s *Server) URL() string { return s.url }

// Token is the management token ("" when ACLs are off).
func (s *Server) Token() string { return s.opts.Token }

// Close stops the listener and ends open (blocking) requests.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.done) })
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}

// Index is the current state index (what X-Nomad-Index reports).
func (s *Server) Index() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.index
}

// bump advances the index and wakes blocking queries. Callers hold s.mu.
func (s *Server) bump() uint64 {
	s.index++
	close(s.changed)
	s.changed = make(chan struct{})
	return s.index
}

// httpError carries a status code to the handler wrapper.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func notFound(format string, a ...any) error {
	return &httpError{code: http.StatusNotFound, msg: fmt.Sprintf(format, a...)}
}

func badRequest(format string, a ...any) error {
	return &httpError{code: http.StatusBadRequest, msg: fmt.Sprintf(format, a...)}
}

// Handler returns the HTTP handler (exposed for httptest use).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	get := func(pattern string, read func(r *http.Request) (any, error)) {
		mux.HandleFunc("GET "+pattern, s.blocking(read))
	}
	write := func(pattern string, fn func(r *http.Request) (any, error)) {
		mux.HandleFunc(pattern, s.writeHandler(fn))
	}

	get("/v1/agent/self", s.agentSelf)
	get("/v1/status/leader", func(*http.Request) (any, error) { return "192.168.1.5:4647", nil })
	get("/v1/status/peers", func(*http.Request) (any, error) { return []string{"192.168.1.5:4647"}, nil })
	get("/v1/nodes", s.listNodes)
	get("/v1/node/{id}", s.readNode)
	get("/v1/node/{id}/allocations", s.nodeAllocs)
	get("/v1/jobs", s.listJobs)
	get("/v1/job/{id}", s.readJob)
	get("/v1/job/{id}/summary", s.jobSummaryHandler)
	get("/v1/job/{id}/allocations", s.jobAllocs)
	get("/v1/job/{id}/deployments", s.jobDeployments)
	get("/v1/job/{id}/deployment", s.jobLatestDeployment)
	get("/v1/allocations", s.listAllocs)
	get("/v1/allocation/{id}", s.readAlloc)
	get("/v1/deployments", s.listDeployments)
	get("/v1/deployment/{id}", s.readDeployment)
	get("/v1/services", s.listServices)
	get("/v1/service/{name}", s.readService)
	get("/v1/client/stats", s.clientStats)
	get("/v1/client/allocation/{id}/stats", s.allocStats)

	write("PUT /v1/jobs", s.registerHandler)
	write("POST /v1/jobs", s.registerHandler)
	write("PUT /v1/job/{id}", s.registerHandler)
	write("POST /v1/job/{id}", s.registerHandler)
	write("DELETE /v1/job/{id}", s.deregisterHandler)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		plainError(w, "Invalid method or path (nomadsim does not serve "+r.Method+" "+r.URL.Path+")", http.StatusNotFound)
	})
	return s.acl(mux)
}

// acl mirrors Nomad with ACLs enabled: no token means the anonymous policy,
// which here allows nothing ("Permission denied"); an unknown secret is
// "ACL token not found"; both are 403.
func (s *Server) acl(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Audit != nil {
			s.opts.Audit(r.Method, r.URL.Path)
		}
		if s.opts.Token == "" {
			next.ServeHTTP(w, r)
			return
		}
		tok := r.Header.Get("X-Nomad-Token")
		if tok == "" {
			if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
				tok = strings.TrimPrefix(h, "Bearer ")
			}
		}
		switch {
		case tok == s.opts.Token:
		case tok != "" && tok == s.opts.ReadOnlyToken:
			if r.Method != http.MethodGet {
				plainError(w, api.PermissionDeniedErrorContent, http.StatusForbidden)
				return
			}
		case tok != "" && s.opts.ReadTokens[tok] != nil:
			allowed := r.Method == http.MethodGet && slices.ContainsFunc(s.opts.ReadTokens[tok], func(p string) bool {
				return strings.HasPrefix(r.URL.Path, p)
			})
			if !allowed {
				plainError(w, api.PermissionDeniedErrorContent, http.StatusForbidden)
				return
			}
		case tok == "":
			plainError(w, api.PermissionDeniedErrorContent, http.StatusForbidden)
			return
		default:
			plainError(w, "ACL token not found", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

const (
	defaultWait = 5 * time.Minute
	maxWait     = 10 * time.Minute
)

// blocking serves a read, honouring ?index=N&wait=D: when N is at or past
// the current index, it waits until the index moves or D elapses.
func (s *Server) blocking(read func(r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var minIndex uint64
		if v := q.Get("index"); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				plainError(w, "Invalid index: "+err.Error(), http.StatusBadRequest)
				return
			}
			minIndex = n
		}
		wait := defaultWait
		if v := q.Get("wait"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				plainError(w, "Invalid wait time: "+err.Error(), http.StatusBadRequest)
				return
			}
			wait = min(d, maxWait)
		}
		var timeout <-chan time.Time
		if minIndex > 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		for {
			s.mu.Lock()
			if minIndex == 0 || s.index > minIndex || timeout == nil {
				body, err := encode(read(r))
				idx := s.index
				s.mu.Unlock()
				respond(w, idx, body, err)
				return
			}
			ch := s.changed
			s.mu.Unlock()
			select {
			case <-ch:
			case <-timeout:
				timeout = nil // answer with the current state
			case <-s.done:
				timeout = nil
			case <-r.Context().Done():
				return
			}
		}
	}
}

func (s *Server) writeHandler(fn func(r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		body, err := encode(fn(r))
		idx := s.index
		s.mu.Unlock()
		respond(w, idx, body, err)
	}
}

// encode marshals a handler's result while the caller still holds s.mu, so
// no mutator changes the state halfway through.
func encode(out any, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("nomadsim: encode response: %w", err)
	}
	return body, nil
}

func respond(w http.ResponseWriter, idx uint64, body []byte, err error) {
	if err != nil {
		code := http.StatusInternalServerError
		var he *httpError
		if errors.As(err, &he) {
			code = he.code
		}
		plainError(w, err.Error(), code)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Nomad-Index", strconv.FormatUint(idx, 10))
	h.Set("X-Nomad-LastContact", "0")
	h.Set("X-Nomad-KnownLeader", "true")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// plainError writes an error body the way Nomad does: the bare message.
func plainError(w http.ResponseWriter, msg string, code int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg))
}

// Package vaultsim is a Vault API stand-in for tests: the few endpoints
// migrate-tui's Vault stage uses (auth mounts, Kubernetes auth config and
// roles, ACL policies, KV v2 reads), served over real HTTP on loopback with
// the wire shapes github.com/hashicorp/vault/api decodes, behind an
// X-Vault-Token check.
package vaultsim

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// Server is a running simulator.
type Server struct {
	token string

	mu       sync.Mutex
	auth     map[string]string                    // mount (no slash) -> type
	authDesc map[string]string                    // mount -> description
	configs  map[string]map[string]any            // mount -> auth config
	roles    map[string]map[string]map[string]any // mount -> role -> data
	policies map[string]string
	kv       map[string]map[string]any // "mount/path" -> data
	writes   []string                  // "METHOD path" of every accepted write

	srv *http.Server
	ln  net.Listener
}

// New returns a simulator that accepts only token.
func New(token string) *Server {
	return &Server{token: token, auth: map[string]string{"token": "token"}, authDesc: map[string]string{}, configs: map[string]map[string]any{},
		roles: map[string]map[string]map[string]any{}, policies: map[string]string{"default": "# default", "root": ""},
		kv: map[string]map[string]any{}}
}

// Start listens on addr (e.g. 127.0.0.1:0).
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s}
	go s.srv.Serve(ln)
	return nil
}

// URL is the simulator's address for api.Config.Address.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Close stops the server.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// PutKV seeds a KV v2 secret at mount/path.
func (s *Server) PutKV(mount, path string, data map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kv[mount+"/"+path] = data
}

// Writes returns every write the server accepted, as "METHOD path".
func (s *Server) Writes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.writes...)
}

// AuthConfig returns a copy of the stored config of an auth mount (tests).
func (s *Server) AuthConfig(mount string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]any{}
	for k, v := range s.configs[mount] {
		out[k] = v
	}
	return out
}

// Role returns a stored role (tests).
func (s *Server) Role(mount, name string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roles[mount][name]
}

// Policy returns a stored policy (tests).
func (s *Server) Policy(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.policies[name]
	return p, ok
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if v != nil {
		json.NewEncoder(w).Encode(v)
	}
}

func errorsResp(w http.ResponseWriter, code int, msg ...string) {
	writeJSON(w, code, map[string]any{"errors": msg})
}

func data(d any) map[string]any {
	return map[string]any{"request_id": "sim", "lease_id": "", "renewable": false, "lease_duration": 0, "data": d, "wrap_info": nil, "warnings": nil, "auth": nil}
}

// ServeHTTP routes /v1/... requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Vault-Token") != s.token || s.token == "" {
		errorsResp(w, http.StatusForbidden, "permission denied")
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		errorsResp(w, http.StatusNotFound)
		return
	}
	method := r.Method
	if method == http.MethodGet && r.URL.Query().Get("list") == "true" {
		method = "LIST"
	}
	var body map[string]any
	if r.Body != nil && (method == http.MethodPost || method == http.MethodPut) {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil && err.Error() != "EOF" {
			errorsResp(w, http.StatusBadRequest, "failed to parse JSON input: "+err.Error())
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	code, resp := s.route(method, path, body)
	if code < 300 && method != http.MethodGet && method != "LIST" {
		s.writes = append(s.writes, method+" "+path)
	}
	if code == http.StatusNoContent {
		w.WriteHeader(code)
		return
	}
	if msg, isErr := resp.(string); isErr {
		errorsResp(w, code, msg)
		return
	}
	writeJSON(w, code, resp)
}

func (s *Server) route(method, path string, body map[string]any) (int, any) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "sys/auth" && method == http.MethodGet:
		mounts := map[string]any{}
		for m, t := range s.auth {
			mounts[m+"/"] = map[string]any{"type": t, "description": s.authDesc[m], "accessor": "auth_" + t + "_sim", "config": map[string]any{}, "options": map[string]any{}, "local": false, "seal_wrap": false}
		}
		return 200, data(mounts)
	case len(parts) >= 5 && parts[0] == "sys" && parts[1] == "mounts" && parts[2] == "auth" && parts[len(parts)-1] == "tune" &&
		(method == http.MethodPost || method == http.MethodPut):
		// sys/mounts/auth/<mount>/tune: only the description is kept.
		mount := strings.Join(parts[3:len(parts)-1], "/")
		if _, ok := s.auth[mount]; !ok {
			return 400, "cannot tune a mount that does not exist: auth/" + mount
		}
		if d, ok := body["description"].(string); ok {
			s.authDesc[mount] = d
		}
		return 204, nil
	case len(parts) >= 3 && parts[0] == "sys" && parts[1] == "auth":
		mount := strings.Join(parts[2:], "/")
		switch method {
		case http.MethodPost, http.MethodPut:
			if _, ok := s.auth[mount]; ok {
				return 400, fmt.Sprintf("path is already in use at %s/", mount)
			}
			t, _ := body["type"].(string)
			if t == "" {
				return 400, "missing type"
			}
			s.auth[mount] = t
			s.authDesc[mount], _ = body["description"].(string)
			return 204, nil
		case http.MethodDelete:
			delete(s.auth, mount)
			delete(s.configs, mount)
			delete(s.roles, mount)
			return 204, nil
		}
	case len(parts) == 4 && parts[0] == "sys" && parts[1] == "policies" && parts[2] == "acl":
		name := parts[3]
		switch method {
		case http.MethodGet:
			p, ok := s.policies[name]
			if !ok {
				return 404, "no policy named " + name
			}
			return 200, data(map[string]any{"name": name, "policy": p})
		case http.MethodPost, http.MethodPut:
			p, _ := body["policy"].(string)
			if p == "" {
				return 400, "'policy' parameter not supplied or empty"
			}
			s.policies[name] = p
			return 204, nil
		case http.MethodDelete:
			delete(s.policies, name)
			return 204, nil
		}
	case len(parts) >= 3 && parts[0] == "auth":
		return s.authPath(method, parts[1], parts[2:], body)
	case len(parts) >= 3 && parts[1] == "data":
		key := parts[0] + "/" + strings.Join(parts[2:], "/")
		if method == http.MethodGet {
			d, ok := s.kv[key]
			if !ok {
				return 404, ""
			}
			return 200, data(map[string]any{"data": d, "metadata": map[string]any{"version": 1, "created_time": "2026-01-01T00:00:00Z", "deletion_time": "", "destroyed": false}})
		}
	}
	return 404, "unsupported path " + path
}

func (s *Server) authPath(method, mount string, rest []string, body map[string]any) (int, any) {
	t, ok := s.auth[mount]
	if !ok {
		return 400, fmt.Sprintf("no handler for route \"auth/%s\". route entry not found.", mount)
	}
	if t != "kubernetes" {
		return 404, "unsupported auth type " + t
	}
	switch {
	case len(rest) == 1 && rest[0] == "config":
		switch method {
		case http.MethodGet:
			c := s.configs[mount]
			if c == nil {
				return 404, ""
			}
			out := map[string]any{}
			for k, v := range c {
				if k == "token_reviewer_jwt" {
					continue // Vault never returns it
				}
				out[k] = v
			}
			_, set := c["token_reviewer_jwt"]
			out["token_reviewer_jwt_set"] = set
			return 200, data(out)
		case http.MethodPost, http.MethodPut:
			if _, ok := body["kubernetes_host"]; !ok {
				return 400, "no host provided"
			}
			c := s.configs[mount]
			if c == nil {
				c = map[string]any{}
				s.configs[mount] = c
			}
			for k, v := range body {
				c[k] = v
			}
			return 204, nil
		}
	case len(rest) == 1 && rest[0] == "role" && method == "LIST":
		var keys []string
		for k := range s.roles[mount] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			return 404, ""
		}
		return 200, data(map[string]any{"keys": keys})
	case len(rest) == 2 && rest[0] == "role":
		name := rest[1]
		switch method {
		case http.MethodGet:
			r, ok := s.roles[mount][name]
			if !ok {
				return 404, ""
			}
			return 200, data(r)
		case http.MethodPost, http.MethodPut:
			if s.roles[mount] == nil {
				s.roles[mount] = map[string]map[string]any{}
			}
			// Vault stores the lists and returns them as lists.
			stored := map[string]any{}
			for k, v := range body {
				if str, ok := v.(string); ok && (k == "bound_service_account_names" || k == "bound_service_account_namespaces" || k == "token_policies") {
					var l []any
					for _, p := range strings.Split(str, ",") {
						l = append(l, strings.TrimSpace(p))
					}
					v = l
				}
				stored[k] = v
			}
			s.roles[mount][name] = stored
			return 204, nil
		case http.MethodDelete:
			delete(s.roles[mount], name)
			return 204, nil
		}
	}
	return 404, "unsupported path auth/" + mount + "/" + strings.Join(rest, "/")
}

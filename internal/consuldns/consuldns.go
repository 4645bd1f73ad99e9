// Package consuldns answers Consul's DNS names for the test world and the
// sandbox. No Consul agent can be had here (the Consul main module may not be
// used, and nothing but the Go module proxy and Debian is reachable), so the
// names Consul would serve are written into a zone file that a real CoreDNS
// (the pinned test tool) serves with its `file` plugin: the DNS behaviour —
// answers, NXDOMAIN with the SOA, NOERROR/no data for another type, REFUSED
// outside the zone, UDP and TCP — is CoreDNS's, not code of ours. Only the
// data is Consul's, as its DNS interface presents it (Consul docs, "DNS
// reference"):
//
//   - <service>.service[.<datacenter>].consul: the addresses of the
//     service's healthy instances, TTL 0 (dns_config.service_ttl default);
//   - <service>.virtual.consul: the service's transparent-proxy virtual IP,
//     from 240.0.0.0/4, which only Envoy sidecars route — which is why the
//     cluster must not use these names (issue "Works on the real homelab").
package consuldns

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"k8s.io/apimachinery/pkg/util/wait"

	"migrate-tui/internal/testtools"
)

// Domain is Consul's default DNS domain.
const Domain = "consul."

// Datacenter is the datacenter label the zone also answers under.
const Datacenter = "dc1"

// Server is a CoreDNS serving the Consul names. The zero value is not
// usable; use New.
type Server struct {
	mu       sync.Mutex
	services map[string]net.IP // service name, lower case
	serial   uint32
	dir      string
	addr     string
	cmd      *exec.Cmd
}

// New returns a server for services: service name (as in
// <name>.service.consul) to IPv4 address. Start runs it.
func New(services map[string]string) (*Server, error) {
	s := &Server{services: map[string]net.IP{}, serial: 1}
	for name, ip := range services {
		if err := s.put(name, ip); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) put(name, ip string) error {
	addr := net.ParseIP(ip).To4()
	if addr == nil {
		return fmt.Errorf("consuldns: service %s: %q is not an IPv4 address", name, ip)
	}
	s.services[strings.ToLower(strings.TrimSuffix(name, "."))] = addr
	return nil
}

// Set registers (or moves) a service. On a running server it returns once
// CoreDNS answers with the new address.
func (s *Server) Set(name, ip string) error {
	s.mu.Lock()
	if err := s.put(name, ip); err != nil {
		s.mu.Unlock()
		return err
	}
	running := s.cmd != nil
	if running {
		s.serial++
		if err := s.writeZone(); err != nil {
			s.mu.Unlock()
			return err
		}
		// SIGUSR1: CoreDNS reloads its Corefile and so re-reads the zone.
		if err := s.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
			s.mu.Unlock()
			return fmt.Errorf("consuldns: reload CoreDNS: %w", err)
		}
	}
	s.mu.Unlock()
	if !running {
		return nil
	}
	fqdn := strings.ToLower(strings.TrimSuffix(name, ".")) + ".service." + Domain
	return s.await(func(r *dns.Msg) bool {
		if len(r.Answer) != 1 {
			return false
		}
		a, ok := r.Answer[0].(*dns.A)
		return ok && a.A.String() == ip
	}, fqdn, "the new address of "+name)
}

// zone is the zone file: SOA, NS, and the records of every service.
func (s *Server) zone() string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN %s\n$TTL 0\n", Domain)
	fmt.Fprintf(&b, "@ IN SOA ns.%s hostmaster.%s %d 3600 600 86400 0\n", Domain, Domain, s.serial)
	fmt.Fprintf(&b, "@ IN NS ns.%s\nns IN A 127.0.0.1\n", Domain)
	names := make([]string, 0, len(s.services))
	for n := range s.services {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		ip := s.services[n]
		fmt.Fprintf(&b, "%s.service IN A %s\n", n, ip)
		fmt.Fprintf(&b, "%s.service.%s IN A %s\n", n, Datacenter, ip)
		// Consul hands out virtual IPs from 240.0.0.0/4.
		fmt.Fprintf(&b, "%s.virtual IN A 240.0.%d.%d\n", n, (i+1)/256, (i+1)%256)
	}
	return b.String()
}

func (s *Server) writeZone() error {
	p := filepath.Join(s.dir, "db.consul")
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(s.zone()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// Start runs CoreDNS on addr's host (addr like 127.0.0.1:0; port 0 picks a
// free one) over UDP and TCP and returns once it answers.
func (s *Server) Start(addr string) error {
	bin, err := testtools.Bin("coredns")
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if port == "0" {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return err
		}
		port = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		l.Close()
	}
	if s.dir, err = os.MkdirTemp("", "consuldns-"); err != nil {
		return err
	}
	s.mu.Lock()
	err = s.writeZone()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	corefile := fmt.Sprintf("%s:%s {\n    bind %s\n    file %s %s\n}\n", Domain, port, host, filepath.Join(s.dir, "db.consul"), Domain)
	conf := filepath.Join(s.dir, "Corefile")
	if err := os.WriteFile(conf, []byte(corefile), 0o644); err != nil {
		return err
	}
	log, err := os.Create(filepath.Join(s.dir, "coredns.log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "-conf", conf)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("consuldns: start CoreDNS: %w", err)
	}
	go func() { _ = cmd.Wait(); log.Close() }()
	s.mu.Lock()
	s.cmd, s.addr = cmd, net.JoinHostPort(host, port)
	s.mu.Unlock()
	return s.await(func(r *dns.Msg) bool { return len(r.Answer) == 1 }, Domain, "CoreDNS to serve the consul zone")
}

// await polls a SOA (for Domain) or A query until ok holds; a hang, not a
// busy machine, makes it give up (3 minutes).
func (s *Server) await(ok func(*dns.Msg) bool, name, what string) error {
	qtype := dns.TypeA
	if name == Domain {
		qtype = dns.TypeSOA
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var last error
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		r, _, err := (&dns.Client{Timeout: 2 * time.Second}).ExchangeContext(ctx, m, s.Addr())
		if err != nil {
			last = err
			return false, nil
		}
		return ok(r), nil
	})
	if err != nil {
		b, _ := os.ReadFile(filepath.Join(s.dir, "coredns.log"))
		return fmt.Errorf("consuldns: waiting for %s on %s: %v (last: %v)\n%s", what, s.Addr(), err, last, b)
	}
	return nil
}

// Addr is host:port of the running server.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Close stops CoreDNS and removes its files.
func (s *Server) Close() error {
	s.mu.Lock()
	cmd, dir := s.cmd, s.dir
	s.cmd = nil
	s.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
	if dir != "" {
		return os.RemoveAll(dir)
	}
	return nil
}

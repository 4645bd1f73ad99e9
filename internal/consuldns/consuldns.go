// Package consuldns is a stand-in for Consul's DNS interface, for the test
// world and the sandbox: it answers A queries for <service>.service.consul
// (and <service>.service.<datacenter>.consul) from a map, as Consul's DNS
// does for a registered, healthy service. It stands in for Consul because no
// Consul server can be had here: the Consul main module may not be used, and
// nothing but the Go module proxy and Debian is reachable. Only the part of
// Consul's DNS behaviour the cluster relies on is modelled: what CoreDNS's
// `.consul` forwarding asks (A records) and the NXDOMAIN for an unknown
// service.
//
// Consul's behaviour restated (Consul docs, "DNS" / "Service lookups"):
// services resolve as <service>.service[.<datacenter>].consul to the
// addresses of their healthy instances; the default service TTL is 0
// (dns_config.service_ttl); an unknown name under the domain is NXDOMAIN
// with the domain's SOA in the authority section. Names outside the domain
// are refused here (a Consul agent without `recursors` cannot answer them).
package consuldns

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Domain is Consul's default DNS domain.
const Domain = "consul."

// Server is a running stand-in. The zero value is not usable; use New.
type Server struct {
	mu      sync.RWMutex
	records map[string]net.IP // service name, lower case
	udp     *dns.Server
	tcp     *dns.Server
	addr    string
}

// New returns a stand-in serving services: service name (as in
// <name>.service.consul) to IPv4 address.
func New(services map[string]string) (*Server, error) {
	s := &Server{records: map[string]net.IP{}}
	for name, ip := range services {
		if err := s.Set(name, ip); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Set registers (or moves) a service.
func (s *Server) Set(name, ip string) error {
	addr := net.ParseIP(ip).To4()
	if addr == nil {
		return fmt.Errorf("consuldns: service %s: %q is not an IPv4 address", name, ip)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[strings.ToLower(strings.TrimSuffix(name, "."))] = addr
	return nil
}

// Start listens on addr (e.g. 127.0.0.1:0) over UDP and TCP on the same
// port and serves until Close.
func (s *Server) Start(addr string) error {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return fmt.Errorf("consuldns: listen udp %s: %w", addr, err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	host, _, _ := net.SplitHostPort(addr)
	l, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
	if err != nil {
		pc.Close()
		return fmt.Errorf("consuldns: listen tcp on the UDP port %d: %w", port, err)
	}
	s.addr = net.JoinHostPort(host, fmt.Sprint(port))
	s.udp = &dns.Server{PacketConn: pc, Handler: s}
	s.tcp = &dns.Server{Listener: l, Handler: s}
	started := make(chan struct{}, 2)
	s.udp.NotifyStartedFunc = func() { started <- struct{}{} }
	s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	go func() { _ = s.udp.ActivateAndServe() }()
	go func() { _ = s.tcp.ActivateAndServe() }()
	<-started
	<-started
	return nil
}

// Addr is host:port of the running server.
func (s *Server) Addr() string { return s.addr }

// Close stops the server.
func (s *Server) Close() error {
	var errs []error
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		if srv != nil {
			errs = append(errs, srv.Shutdown())
		}
	}
	return errors.Join(errs...)
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if !dns.IsSubDomain(Domain, name) {
		m.Authoritative = false
		m.Rcode = dns.RcodeRefused
		_ = w.WriteMsg(m)
		return
	}
	ip, ok := s.lookup(name)
	switch {
	case !ok:
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{s.soa()}
	case q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY:
		m.Answer = []dns.RR{&dns.A{
			Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 0},
			A:   ip,
		}}
	default:
		// The name exists, but not with this type: NOERROR, no answer.
		m.Ns = []dns.RR{s.soa()}
	}
	_ = w.WriteMsg(m)
}

// lookup finds <service>.service[.<dc>].consul.
func (s *Server) lookup(name string) (net.IP, bool) {
	labels := dns.SplitDomainName(strings.TrimSuffix(name, Domain))
	if len(labels) < 2 || len(labels) > 3 || labels[1] != "service" {
		return nil, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ip, ok := s.records[labels[0]]
	return ip, ok
}

func (s *Server) soa() dns.RR {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: Domain, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 0},
		Ns:      "ns." + Domain,
		Mbox:    "hostmaster." + Domain,
		Serial:  1,
		Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 0,
	}
}

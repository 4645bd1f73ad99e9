package consuldns

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

func query(t *testing.T, addr, name string, qtype uint16, proto string) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: proto}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("query %s over %s: %v", name, proto, err)
	}
	return r
}

func TestAnswersLikeConsul(t *testing.T) {
	s, err := New(map[string]string{"minio-minio": "127.0.0.7", "vault": "127.0.0.8"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	for _, proto := range []string{"udp", "tcp"} {
		for name, want := range map[string]string{
			"minio-minio.service.consul":     "127.0.0.7",
			"MINIO-minio.service.dc1.consul": "127.0.0.7",
			"vault.service.consul":           "127.0.0.8",
		} {
			r := query(t, s.Addr(), name, dns.TypeA, proto)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
				t.Fatalf("%s over %s: rcode %s, %d answers, want one A", name, proto, dns.RcodeToString[r.Rcode], len(r.Answer))
			}
			if a, ok := r.Answer[0].(*dns.A); !ok || a.A.String() != want || a.Hdr.Ttl != 0 {
				t.Errorf("%s over %s: got %v, want A %s with TTL 0 (Consul's default)", name, proto, r.Answer[0], want)
			}
		}
	}
	if r := query(t, s.Addr(), "nope.service.consul", dns.TypeA, "udp"); r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 {
		t.Errorf("unknown service: rcode %s, authority %v; want NXDOMAIN with the SOA", dns.RcodeToString[r.Rcode], r.Ns)
	}
	// A virtual.consul name is the transparent proxy's virtual IP, never the
	// service's address: from K3s (no Envoy sidecar) it routes nowhere.
	if r := query(t, s.Addr(), "minio-minio.virtual.consul", dns.TypeA, "udp"); len(r.Answer) != 1 ||
		!(&net.IPNet{IP: net.IPv4(240, 0, 0, 0), Mask: net.CIDRMask(4, 32)}).Contains(r.Answer[0].(*dns.A).A) {
		t.Errorf("minio-minio.virtual.consul: %v, want one A in 240.0.0.0/4", r.Answer)
	}
	if r := query(t, s.Addr(), "example.org", dns.TypeA, "udp"); r.Rcode != dns.RcodeRefused {
		t.Errorf("outside the consul domain: rcode %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}
	if r := query(t, s.Addr(), "vault.service.consul", dns.TypeAAAA, "udp"); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("AAAA of an IPv4-only service: rcode %s, %d answers; want NOERROR and none", dns.RcodeToString[r.Rcode], len(r.Answer))
	}
	if err := s.Set("minio-minio", "127.0.0.9"); err != nil {
		t.Fatal(err)
	}
	if r := query(t, s.Addr(), "minio-minio.service.consul", dns.TypeA, "udp"); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "127.0.0.9" {
		t.Errorf("after Set: %v, want 127.0.0.9", r.Answer)
	}
	if _, err := New(map[string]string{"x": "not-an-ip"}); err == nil {
		t.Error("New accepted a service with no IPv4 address")
	}
}

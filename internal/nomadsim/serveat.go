package nomadsim

import (
	"fmt"
	"net"
	"strconv"
)

// ServeServiceAt points every registration of a nomad-provider service at
// addr (host:port): the simulator runs no task, so a test that must reach
// "the Nomad instance" puts a real server on loopback and names it here.
func (s *Server) ServeServiceAt(service, addr string) error {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("nomadsim: serve %s at %q: %w", service, addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return fmt.Errorf("nomadsim: serve %s at %q: port: %w", service, addr, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for _, r := range s.svcs {
		if r.ServiceName == service {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("nomadsim: no registration of service %q (only nomad-provider services of running allocations are registered)", service)
	}
	idx := s.bump()
	for _, r := range s.svcs {
		if r.ServiceName == service {
			r.Address, r.Port, r.ModifyIndex = host, port, idx
		}
	}
	return nil
}

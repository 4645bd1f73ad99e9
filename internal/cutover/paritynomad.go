package cutover

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/hashicorp/nomad/api"

	"migrate-tui/internal/nomadwatch"
)

// NomadServices reads Nomad's service registrations (nomad-provider
// services; Consul-provider ones are in Consul's catalog).
type NomadServices interface {
	ServiceRegistrations(ctx context.Context, ns, name string) ([]*api.ServiceRegistration, error)
	Address() string
}

// NomadServicesFrom adapts nomadwatch's client.
func NomadServicesFrom(c *nomadwatch.Client) NomadServices { return apiNomad{c} }

func (n apiNomad) ServiceRegistrations(ctx context.Context, ns, name string) ([]*api.ServiceRegistration, error) {
	regs, _, err := n.API().Services().Get(name, q(ctx, ns, 0))
	if err != nil {
		return nil, fmt.Errorf("read Nomad service %s at %s: %w", name, n.Address(), err)
	}
	return regs, nil
}

// NomadServiceURL is the base URL of the Nomad instance of a service: its
// first registration's address and port, as Traefik's catalog reaches it.
func NomadServiceURL(ctx context.Context, n NomadServices, ns, service string) (string, error) {
	if ns == "" {
		ns = "default"
	}
	regs, err := n.ServiceRegistrations(ctx, ns, service)
	if err != nil {
		return "", err
	}
	for _, r := range regs {
		if r.Address != "" && r.Port > 0 {
			return "http://" + net.JoinHostPort(r.Address, strconv.Itoa(r.Port)), nil
		}
	}
	return "", fmt.Errorf("nomad at %s has no registration of service %s in namespace %s with an address (a Consul-provider service is in Consul's catalog: pass its address as the Nomad endpoint)", n.Address(), service, ns)
}

// HealthPath is the path of the job's first HTTP check on service (group
// or task services), "/" when it has none: the parity check's default.
func HealthPath(job *api.Job, service string) string {
	if job == nil {
		return "/"
	}
	var svcs []*api.Service
	for _, tg := range job.TaskGroups {
		svcs = append(svcs, tg.Services...)
		for _, t := range tg.Tasks {
			svcs = append(svcs, t.Services...)
		}
	}
	for _, s := range svcs {
		if s == nil || (service != "" && s.Name != service) {
			continue
		}
		for _, c := range s.Checks {
			if c.Type == "http" && c.Path != "" {
				return c.Path
			}
		}
	}
	return "/"
}

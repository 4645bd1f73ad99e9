package sandbox

import (
	"fmt"
	"sort"

	nomad "github.com/hashicorp/nomad/api"
)

// consulSelf are the services that register themselves in Consul on the
// homelab, beside Nomad's jobs: Consul itself (consul.service.consul),
// Vault's service registration (vault.service.consul, what vault_address
// names) and Nomad's servers and clients (nomad, nomad-client).
var consulSelf = []string{"consul", "vault", "nomad", "nomad-client"}

// sandboxServiceIP is where every .consul name points in the sandbox:
// everything the sandbox simulates (Nomad, Vault, the S3 stand-in) listens
// on loopback.
const sandboxServiceIP = "127.0.0.1"

// consulServices reads the Nomad simulator's jobs and returns the Consul DNS
// names they register (services with the consul provider, Nomad's default)
// plus consulSelf, each at sandboxServiceIP.
func consulServices(addr, token string) (map[string]string, error) {
	c, err := nomad.NewClient(&nomad.Config{Address: addr, SecretID: token})
	if err != nil {
		return nil, err
	}
	stubs, _, err := c.Jobs().List(nil)
	if err != nil {
		return nil, fmt.Errorf("list the Nomad simulator's jobs: %w", err)
	}
	out := map[string]string{}
	for _, n := range consulSelf {
		out[n] = sandboxServiceIP
	}
	add := func(svcs []*nomad.Service) {
		for _, s := range svcs {
			if s.Provider == "" || s.Provider == "consul" {
				out[s.Name] = sandboxServiceIP
			}
		}
	}
	for _, stub := range stubs {
		job, _, err := c.Jobs().Info(stub.ID, nil)
		if err != nil {
			return nil, fmt.Errorf("read Nomad job %s: %w", stub.ID, err)
		}
		for _, tg := range job.TaskGroups {
			add(tg.Services)
			for _, t := range tg.Tasks {
				add(t.Services)
			}
		}
	}
	return out, nil
}

// serviceNames lists the names, sorted, for the log.
func serviceNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n+".service.consul")
	}
	sort.Strings(names)
	return names
}

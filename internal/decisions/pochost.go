package decisions

import (
	"fmt"
	"strings"
)

// DefaultPoCHostPattern is where a PoC service answers during the PoC: a
// host of its own, so the Nomad service's <service>.<domain> (routed by the
// external Traefik) is not shadowed; cutover moves the production host.
const DefaultPoCHostPattern = "{service}-k8s.{domain}"

// PoCHost fills in pattern ({service} and {domain}) as main.tf's poc_hosts
// local does.
func PoCHost(pattern, service, domain string) string {
	if pattern == "" {
		pattern = DefaultPoCHostPattern
	}
	return strings.ReplaceAll(strings.ReplaceAll(pattern, "{service}", service), "{domain}", domain)
}

// validHostPattern accepts a pattern holding {service} that gives a DNS
// name, the same rule as variables.tf's validation of poc_host_pattern.
func validHostPattern(v any) error {
	s := v.(string)
	if !strings.Contains(s, "{service}") {
		return fmt.Errorf("%q has no {service}: every service would get the same host", s)
	}
	if h := PoCHost(s, "whoami", "example.org"); !dnsName.MatchString(h) {
		return fmt.Errorf("%q gives %q, not a DNS name; use something like %s", s, h, DefaultPoCHostPattern)
	}
	return nil
}

// Package connect is the one way a command reaches the cluster, Nomad and
// Vault, as kubectl's genericclioptions.ConfigFlags: one precedence per
// endpoint, one sentence for each that every --help taking the flag
// repeats, and the clients built from the result. check, cutover,
// tls-secret, scaffold, apply and the wizard all resolve here, so the
// wizard cannot apply to one cluster and verify another.
package connect

package steps

// StageKeys lists, per stage, the terraform.tfvars keys (decisions) the
// stage's work uses: for the Terraform stages, every variable main.tf hands
// their modules (kept complete by TestStageKeysCoverMainTF); for the cluster
// stage, what internal/k3sconfig renders into K3s's config and the install.
// A changed decision sends back exactly the stages listed here for it.
var StageKeys = map[string][]string{
	// k3sconfig.FromTfvars and the node list: K3s's config.yaml and the
	// install order. Nothing else reinstalls a running cluster.
	"cluster": {"nodes", "control_plane_topology", "k3s_version", "cluster_cidr", "service_cidr", "node_port_range", "k3s_disable",
		"system_reserved", "kube_reserved", "service_mesh", "cilium_ipam_mode", "cilium_pool_cidr"},
	"mesh":    {"consul_dns_servers", "k3s_disable", "service_mesh"},
	"storage": {"consul_dns_servers", "glusterfs_mount_root", "nfs_path", "nfs_server", "nodes", "storage_backend"},
	// The vault stage's Vault side (vaultsetup) uses the vault_policies and
	// vault_roles outputs: the services, namespace and KV keys too.
	"vault": {"consul_dns_servers", "vault_address", "vault_auth_mount", "vault_ca_file", "vault_kv_mount", "vault_method",
		"poc_services", "poc_namespace", "overseerr_litestream_vault_key"},
	"vpa":     {"consul_dns_servers", "vpa_update_mode"},
	"ingress": {"consul_dns_servers", "ingress_mode", "service_mesh", "tls_secret_name", "traefik_http_node_port", "traefik_https_node_port"},
	"services": {"cluster_cidr", "consul_dns_servers", "domain", "glusterfs_mount_root", "ingress_mode", "k3s_disable", "lan_cidr",
		"minio_endpoint", "node_port_range", "overseerr_litestream_bucket", "overseerr_litestream_vault_key", "overseerr_litestream_version",
		"poc_host_pattern", "poc_namespace", "poc_services", "service_mesh", "storage_backend", "vault_auth_mount", "vault_kv_mount",
		"vault_method", "vpa_update_mode"},
}

// StagesUsing returns the stages, in order, whose work uses key.
func StagesUsing(key string) []string {
	var out []string
	for _, s := range Stages {
		for _, k := range StageKeys[s.Name] {
			if k == key {
				out = append(out, s.Name)
				break
			}
		}
	}
	return out
}

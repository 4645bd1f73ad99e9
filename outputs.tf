output "enabled_stages" {
  description = "The stages this configuration applied, in order."
  value       = [for s in local.stage_order : s if local.stage[s]]
}

output "cluster" {
  description = "What the cluster stage (over SSH, internal/k3sconfig) installs: the same decisions this configuration was planned with."
  value       = local.cluster
}

output "poc_namespace" {
  description = "Namespace of the PoC services."
  value       = var.poc_namespace
}

output "service_urls" {
  description = "Where each PoC or enabled scaffolded service answers: https://<poc_host_pattern host> (<service>-k8s.<domain> by default) behind Traefik, or a NodePort for external-direct."
  value = merge(
    local.stage.services && contains(var.poc_services, "whoami") ? { whoami = module.whoami[0].url } : {},
    local.stage.services && contains(var.poc_services, "echo") ? { echo = module.echo[0].url } : {},
    local.stage.services && contains(var.poc_services, "overseerr") ? { overseerr = module.overseerr[0].url } : {},
    local.scaffolded_urls,
  )
}

output "vault_token_reviewer" {
  description = "ServiceAccount whose long-lived token Vault's Kubernetes auth uses as token_reviewer_jwt. The token is read from the Secret through the API, never from Terraform."
  value       = local.stage.vault ? module.vault_integration[0].token_reviewer : null
}

output "vault_policies" {
  description = "Vault policies (name => HCL) for the PoC services, rendered for vault_kv_mount. The Vault stage writes them to Vault."
  value       = local.vault_policies
}

output "vault_roles" {
  description = "Vault Kubernetes-auth roles (name => bound service accounts, namespaces and policies) the Vault stage creates on vault_auth_mount."
  value       = local.vault_roles
}

output "tls_secret" {
  description = "Namespace and name of the wildcard TLS Secret migrate-tui creates through the API (never Terraform) for the default TLSStore."
  value       = local.stage.ingress && var.ingress_mode != "external-direct" ? { namespace = local.ingress_namespace, name = var.tls_secret_name } : null
}

output "node_ports" {
  description = "NodePorts the external Traefik forwards to: Traefik's entrypoints, or each service's own port for external-direct."
  value       = local.node_ports
}

output "external_traefik" {
  description = "Where cutover writes each service's route to K3s (the external Traefik's file-provider directory and its node; empty dir: the route is printed) and the websecure entrypoint that proves it."
  value = {
    route_dir      = var.traefik_route_dir
    node           = var.traefik_route_node
    websecure_addr = var.traefik_websecure_addr
  }
}

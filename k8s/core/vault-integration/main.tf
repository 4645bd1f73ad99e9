# The Kubernetes side of Vault. Vault runs outside the cluster, so its
# Kubernetes auth needs a token reviewer: a ServiceAccount bound to
# system:auth-delegator and a long-lived token that the API server writes
# into a service-account-token Secret (Terraform never sees the token; the
# Vault stage reads it through the API). Pods then get secrets from ESO
# (a ClusterSecretStore on the KV v2 mount) or from the Vault Agent Injector.
# policies/*.hcl are the Vault policies for the PoC services (${kv_mount} is
# the KV mount); the Vault stage writes them to Vault.
# vault_ca_bundle, when set, is the CA that signed Vault's certificate (a
# private CA): ESO reads it from the ConfigMap vault-ca through the store's
# caProvider. A CA certificate is public, so it may live in state.
locals {
  ca_configmap = var.vault_ca_bundle == "" ? "" : "vault-ca"

  chart_versions = {
    external_secrets = "0.20.4"
    vault            = "0.31.0"
  }

  rendered = [
    file("${path.module}/manifests/token-reviewer.yaml"),
    var.vault_method == "external-secrets" ? templatefile("${path.module}/manifests/external-secrets.yaml", {
      version       = local.chart_versions.external_secrets
      vault_address = var.vault_address
      kv_mount      = var.vault_kv_mount
      auth_mount    = var.vault_auth_mount
      ca_configmap  = local.ca_configmap
    }) : "",
    var.vault_method == "external-secrets" && local.ca_configmap != "" ? yamlencode({
      apiVersion = "v1"
      kind       = "ConfigMap"
      metadata = {
        name      = local.ca_configmap
        namespace = "external-secrets"
        labels = {
          "app.kubernetes.io/part-of"    = "migrate-tui-poc"
          "app.kubernetes.io/managed-by" = "terraform"
        }
      }
      data = { "ca.crt" = var.vault_ca_bundle }
    }) : "",
    var.vault_method == "agent-injector" ? templatefile("${path.module}/manifests/agent-injector.yaml", {
      version       = local.chart_versions.vault
      vault_address = var.vault_address
      auth_mount    = var.vault_auth_mount
    }) : "",
  ]
}

module "apply" {
  source  = "../../apply"
  streams = local.rendered
}

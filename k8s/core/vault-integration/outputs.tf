output "token_reviewer" {
  description = "Where the Vault stage reads token_reviewer_jwt from (a Secret the API server fills)."
  value = {
    namespace       = "kube-system"
    service_account = "vault-token-reviewer"
    secret          = "vault-token-reviewer-token"
    auth_mount      = var.vault_auth_mount
  }
}

output "secret_store" {
  description = "Name of the ClusterSecretStore (external-secrets) or null (agent-injector)."
  value       = var.vault_method == "external-secrets" ? "vault" : null
}

output "objects" {
  description = "Objects this stage applied (kind/namespace/name)."
  value       = module.apply.objects
}

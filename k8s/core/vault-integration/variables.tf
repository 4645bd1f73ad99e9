variable "vault_method" {
  description = "external-secrets or agent-injector."
  type        = string
  validation {
    condition     = contains(["external-secrets", "agent-injector"], var.vault_method)
    error_message = "vault_method must be external-secrets or agent-injector."
  }
}

variable "vault_address" {
  description = "Address of the existing Vault."
  type        = string
  validation {
    condition     = can(regex("^https?://", var.vault_address))
    error_message = "vault_address must start with http:// or https://."
  }
}

variable "vault_kv_mount" {
  description = "KV v2 mount holding the services' secrets."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]+$", var.vault_kv_mount))
    error_message = "vault_kv_mount must be a mount name."
  }
}

variable "vault_auth_mount" {
  description = "Vault auth mount of the cluster's Kubernetes auth method."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]+$", var.vault_auth_mount))
    error_message = "vault_auth_mount must be a mount name."
  }
}

variable "vault_ca_bundle" {
  description = "PEM CA certificate(s) that signed Vault's TLS certificate; empty when the system roots trust it."
  type        = string
  default     = ""
  validation {
    condition     = var.vault_ca_bundle == "" || can(regex("-----BEGIN CERTIFICATE-----", var.vault_ca_bundle))
    error_message = "vault_ca_bundle must be PEM certificates."
  }
}

variable "ingress_mode" {
  description = "traefik-behind-external, bundled-traefik or external-direct."
  type        = string
  validation {
    condition     = contains(["traefik-behind-external", "bundled-traefik", "external-direct"], var.ingress_mode)
    error_message = "ingress_mode must be traefik-behind-external, bundled-traefik or external-direct."
  }
}

variable "traefik_http_node_port" {
  description = "NodePort of Traefik's web entrypoint."
  type        = number
  validation {
    condition     = var.traefik_http_node_port >= 1 && var.traefik_http_node_port <= 65535
    error_message = "traefik_http_node_port must be a port number."
  }
}

variable "traefik_https_node_port" {
  description = "NodePort of Traefik's websecure entrypoint."
  type        = number
  validation {
    condition     = var.traefik_https_node_port >= 1 && var.traefik_https_node_port <= 65535
    error_message = "traefik_https_node_port must be a port number."
  }
}

variable "tls_secret_name" {
  description = "Wildcard TLS Secret the default TLSStore serves (created by migrate-tui, not Terraform)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.tls_secret_name))
    error_message = "tls_secret_name must be a DNS label."
  }
}

variable "service_mesh" {
  description = "The mesh in use (istio-ambient puts Traefik's namespace in the mesh so STRICT mTLS reaches the services)."
  type        = string
  validation {
    condition     = contains(["cilium", "linkerd", "istio-ambient", "none"], var.service_mesh)
    error_message = "service_mesh must be cilium, linkerd, istio-ambient or none."
  }
}

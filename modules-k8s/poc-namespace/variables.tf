variable "namespace" {
  description = "Namespace of the PoC services."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label."
  }
}

variable "service_mesh" {
  description = "Mesh whose default-deny the namespace gets (none: no policy)."
  type        = string
  validation {
    condition     = contains(["cilium", "linkerd", "istio-ambient", "none"], var.service_mesh)
    error_message = "service_mesh must be cilium, linkerd, istio-ambient or none."
  }
}

variable "namespace" {
  description = "Namespace of the PoC services."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label."
  }
}

variable "service_mesh" {
  description = "Mesh whose policy resources express who may call this service (none: no policy objects)."
  type        = string
  default     = "none"
  validation {
    condition     = contains(["cilium", "linkerd", "istio-ambient", "none"], var.service_mesh)
    error_message = "service_mesh must be cilium, linkerd, istio-ambient or none."
  }
}

variable "vpa_enabled" {
  description = "Whether the VPA stage is installed (the VerticalPodAutoscaler CRD exists)."
  type        = bool
  default     = false
}

variable "vpa_update_mode" {
  description = "updateMode of this service's VerticalPodAutoscaler; Off only recommends."
  type        = string
  default     = "Off"
  validation {
    condition     = contains(["Off", "Initial", "Recreate", "Auto"], var.vpa_update_mode)
    error_message = "vpa_update_mode must be Off, Initial, Recreate or Auto (the modes the pinned VPA accepts)."
  }
}

variable "allowed_clients" {
  description = "PoC services (by ServiceAccount and app.kubernetes.io/name) allowed to call echo; everyone else is denied."
  type        = list(string)
  default     = ["whoami"]
  validation {
    condition     = alltrue([for c in var.allowed_clients : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", c))])
    error_message = "allowed_clients must be DNS labels."
  }
}

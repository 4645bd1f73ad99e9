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

variable "domain" {
  description = "DNS domain; the service answers at <name>.<domain>."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$", var.domain))
    error_message = "domain must be a DNS name such as example.org."
  }
}

variable "host" {
  description = "Host the service answers at through the ingress: the root module's poc_host_pattern filled in (<service>-k8s.<domain> by default, so Nomad's host is not shadowed during the PoC)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$", var.host))
    error_message = "host must be a DNS name such as whoami-k8s.example.org."
  }
}

variable "ingress_mode" {
  description = "traefik-behind-external or bundled-traefik (an IngressRoute), external-direct (a NodePort) or none (ClusterIP only)."
  type        = string
  default     = "none"
  validation {
    condition     = contains(["traefik-behind-external", "bundled-traefik", "external-direct", "none"], var.ingress_mode)
    error_message = "ingress_mode must be traefik-behind-external, bundled-traefik, external-direct or none."
  }
}

variable "ingress_namespace" {
  description = "Namespace of the Traefik that forwards to this service (empty for external-direct)."
  type        = string
  default     = ""
  validation {
    condition     = var.ingress_namespace == "" || can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.ingress_namespace))
    error_message = "ingress_namespace must be empty or a DNS label."
  }
}

variable "cluster_cidr" {
  description = "Pod CIDR: where ingress traffic comes from when the ingress is not in the mesh."
  type        = string
  validation {
    condition     = can(cidrhost(var.cluster_cidr, 0))
    error_message = "cluster_cidr must be a CIDR."
  }
}

variable "lan_cidr" {
  description = "The LAN: where NodePort traffic comes from (external-direct)."
  type        = string
  validation {
    condition     = can(cidrhost(var.lan_cidr, 0))
    error_message = "lan_cidr must be a CIDR."
  }
}

variable "node_port" {
  description = "NodePort of the service when ingress_mode = external-direct."
  type        = number
  validation {
    condition     = var.node_port >= 1 && var.node_port <= 65535
    error_message = "node_port must be a port number."
  }
}

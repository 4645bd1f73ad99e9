variable "service_mesh" {
  description = "cilium, linkerd or istio-ambient (none does not call this module)."
  type        = string
  validation {
    condition     = contains(["cilium", "linkerd", "istio-ambient"], var.service_mesh)
    error_message = "service_mesh must be cilium, linkerd or istio-ambient."
  }
}

variable "cilium_ipam_mode" {
  description = "Cilium IPAM mode: kubernetes or cluster-pool."
  type        = string
  validation {
    condition     = contains(["kubernetes", "cluster-pool"], var.cilium_ipam_mode)
    error_message = "cilium_ipam_mode must be kubernetes or cluster-pool."
  }
}

variable "cilium_pool_cidr" {
  description = "Cilium cluster-pool CIDR (cluster-pool only)."
  type        = string
  validation {
    condition     = can(cidrhost(var.cilium_pool_cidr, 0))
    error_message = "cilium_pool_cidr must be a CIDR."
  }
}

variable "cluster_cidr" {
  description = "K3s pod CIDR (Cilium's native routing CIDR)."
  type        = string
  validation {
    condition     = can(cidrhost(var.cluster_cidr, 0))
    error_message = "cluster_cidr must be a CIDR."
  }
}

variable "api_host" {
  description = "Address of the first K3s server: Cilium replaces kube-proxy, so it must reach the API without the kubernetes Service."
  type        = string
  validation {
    condition     = length(var.api_host) > 0
    error_message = "api_host must not be empty."
  }
}

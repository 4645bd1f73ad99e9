variable "service_mesh" {
  description = "cilium (nothing to apply: the cluster stage installs Cilium as the CNI), linkerd or istio-ambient (none does not call this module)."
  type        = string
  validation {
    condition     = contains(["cilium", "linkerd", "istio-ambient"], var.service_mesh)
    error_message = "service_mesh must be cilium, linkerd or istio-ambient."
  }
}

variable "gateway_api_crds_from_k3s" {
  description = "Whether K3s's packaged Traefik runs (traefik not in k3s_disable): its traefik-crd release then owns the Gateway API CRDs, and Linkerd's CRD chart must not install them again."
  type        = bool
  default     = false
}

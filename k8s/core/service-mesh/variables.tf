variable "service_mesh" {
  description = "cilium (nothing to apply: the cluster stage installs Cilium as the CNI), linkerd or istio-ambient (none does not call this module)."
  type        = string
  validation {
    condition     = contains(["cilium", "linkerd", "istio-ambient"], var.service_mesh)
    error_message = "service_mesh must be cilium, linkerd or istio-ambient."
  }
}

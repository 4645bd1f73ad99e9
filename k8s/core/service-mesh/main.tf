# The mesh: Cilium (CNI, WireGuard node-to-node encryption, Hubble), Linkerd
# (edge charts; identity certificates made in the cluster by a Job so no key
# ever enters Terraform state) or Istio in ambient mode. The policies that
# replace Consul intentions live with the services (modules-k8s/*) and the
# namespace (modules-k8s/poc-namespace), in the chosen mesh's own resources.
locals {
  chart_versions = {
    cilium  = "1.18.2"
    linkerd = "2025.10.2"
    istio   = "1.27.1"
  }
  images = {
    step    = "smallstep/step-cli:0.28.7"
    kubectl = "registry.k8s.io/kubectl:v1.34.3"
  }

  rendered = [
    var.service_mesh == "cilium" ? templatefile("${path.module}/manifests/cilium.yaml", {
      version      = local.chart_versions.cilium
      ipam_mode    = var.cilium_ipam_mode
      pool_cidr    = var.cilium_pool_cidr
      cluster_cidr = var.cluster_cidr
      api_host     = var.api_host
    }) : "",
    var.service_mesh == "linkerd" ? templatefile("${path.module}/manifests/linkerd.yaml", {
      version       = local.chart_versions.linkerd
      step_image    = local.images.step
      kubectl_image = local.images.kubectl
    }) : "",
    var.service_mesh == "istio-ambient" ? templatefile("${path.module}/manifests/istio-ambient.yaml", {
      version = local.chart_versions.istio
    }) : "",
  ]
}

module "apply" {
  source  = "../../apply"
  streams = local.rendered
}

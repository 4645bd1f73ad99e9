# The mesh: Linkerd (edge charts; identity certificates made in the cluster
# by a Job so no key ever enters Terraform state) or Istio in ambient mode.
# Cilium (CNI, WireGuard node-to-node encryption, Hubble) is not applied
# here: it is the cluster's CNI, so the cluster stage writes its HelmChart
# (k8s/cluster/cilium-helmchart.yaml.tmpl) into the first server's K3s
# auto-deploy directory and K3s owns it; applying it here too would have
# Terraform and K3s's deploy controller fight over one object. With cilium
# this stage applies nothing; its policies live with the services. The policies that
# replace Consul intentions live with the services (modules-k8s/*) and the
# namespace (modules-k8s/poc-namespace), in the chosen mesh's own resources.
locals {
  chart_versions = {
    linkerd = "2025.10.2"
    istio   = "1.27.1"
  }
  # Both run on amd64 and arm64 nodes, and the Jobs' scripts use only what
  # the images hold. step-cli: smallstep/cli's release workflow pushes
  # docker/Dockerfile for linux/amd64, 386, arm and arm64; that Dockerfile is
  # alpine with step in /usr/local/bin, so /bin/sh and sed are busybox's.
  # kubectl: kubernetes build/server-image/kubectl/Dockerfile (debian-base,
  # ENTRYPOINT /bin/kubectl, so the containers pass only args), published
  # for every server platform, arm64 among them.
  images = {
    step    = "smallstep/step-cli:0.28.7"
    kubectl = "registry.k8s.io/kubectl:v1.34.3"
  }

  rendered = [
    var.service_mesh == "linkerd" ? templatefile("${path.module}/manifests/linkerd.yaml", {
      version             = local.chart_versions.linkerd
      install_gateway_api = !var.gateway_api_crds_from_k3s
      step_image          = local.images.step
      kubectl_image       = local.images.kubectl
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

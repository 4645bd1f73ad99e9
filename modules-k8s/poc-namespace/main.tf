# The PoC namespace, enrolled in the mesh, with the mesh's default deny: the
# Consul intentions' "deny unless allowed". Each service module adds its own
# explicit allows (echo: only whoami).
locals {
  rendered = [
    templatefile("${path.module}/manifests/namespace.yaml", {
      namespace    = var.namespace
      service_mesh = var.service_mesh
    }),
    # Linkerd's default deny is the namespace annotation (namespace.yaml).
    contains(["cilium", "istio-ambient"], var.service_mesh) ? templatefile("${path.module}/manifests/default-deny-${var.service_mesh}.yaml", {
      namespace = var.namespace
    }) : "",
  ]
}

module "apply" {
  source  = "../../k8s/apply"
  streams = local.rendered
}

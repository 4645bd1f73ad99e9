# echo: the mesh partner. Only whoami may call it (the replacement of the
# Consul intention whoami -> echo); it has no ingress.
locals {
  name     = "echo"
  version  = "0.9.2"
  port     = 8080
  instance = "${local.name}-${var.namespace}"
  labels = {
    "app.kubernetes.io/name"       = local.name
    "app.kubernetes.io/instance"   = local.instance
    "app.kubernetes.io/version"    = local.version
    "app.kubernetes.io/component"  = "backend"
    "app.kubernetes.io/part-of"    = "migrate-tui-poc"
    "app.kubernetes.io/managed-by" = "terraform"
  }

  vars = {
    name              = local.name
    namespace         = var.namespace
    instance          = local.instance
    labels            = trimspace(yamlencode(local.labels))
    image             = "ealen/echo-server:${local.version}"
    port              = local.port
    domain            = ""
    ingress_mode      = "none"
    ingress_namespace = ""
    cluster_cidr      = ""
    lan_cidr          = ""
    node_port         = 0
    clients           = var.allowed_clients
    target_kind       = "Deployment"
    update_mode       = var.vpa_update_mode
  }

  shared = {
    "service.yaml"                    = true
    "vpa.yaml"                        = var.vpa_enabled
    "policy-${var.service_mesh}.yaml" = var.service_mesh != "none"
  }

  rendered = concat(
    [templatefile("${path.module}/manifests/deployment.yaml", local.vars)],
    [for f, on in local.shared : templatefile("${path.module}/../shared/manifests/${f}", local.vars) if on],
  )
}

module "apply" {
  source  = "../../k8s/apply"
  streams = local.rendered
}

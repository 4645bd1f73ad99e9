# whoami: the stateless PoC service (traefik/whoami, multi-arch), reachable
# through the chosen ingress and allowed to call echo.
locals {
  name     = "whoami"
  version  = "v1.11.0"
  port     = 8080
  instance = "${local.name}-${var.namespace}"
  labels = {
    "app.kubernetes.io/name"       = local.name
    "app.kubernetes.io/instance"   = local.instance
    "app.kubernetes.io/version"    = local.version
    "app.kubernetes.io/component"  = "web"
    "app.kubernetes.io/part-of"    = "migrate-tui-poc"
    "app.kubernetes.io/managed-by" = "terraform"
  }

  vars = {
    name              = local.name
    namespace         = var.namespace
    instance          = local.instance
    labels            = trimspace(yamlencode(local.labels))
    image             = "traefik/whoami:${local.version}"
    port              = local.port
    domain            = var.domain
    host              = var.host
    ingress_mode      = var.ingress_mode
    ingress_namespace = var.ingress_namespace
    cluster_cidr      = var.cluster_cidr
    lan_cidr          = var.lan_cidr
    node_port         = var.node_port
    clients           = []
    middlewares       = [] # the shared IngressRoute's (scaffolded modules fill it)
    target_kind       = "Deployment"
    update_mode       = var.vpa_update_mode
  }

  shared = {
    "service.yaml"                    = true
    "ingressroute.yaml"               = contains(["traefik-behind-external", "bundled-traefik"], var.ingress_mode)
    "vpa.yaml"                        = var.vpa_enabled
    "policy-${var.service_mesh}.yaml" = var.service_mesh != "none" && var.ingress_mode != "none"
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

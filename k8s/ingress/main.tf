# Ingress for the hybrid period.
# - traefik-behind-external: Traefik on K3s (chart) on NodePorts; the
#   external Traefik on Hestia forwards to them.
# - bundled-traefik: K3s's packaged Traefik, tuned by a HelmChartConfig.
# - external-direct: no Traefik in the cluster; services get NodePorts.
# In both Traefik modes the default TLSStore serves the wildcard certificate
# from the Secret tls_secret_name, which migrate-tui creates through the API
# from a certificate file: the key never enters Terraform state.
# CoreDNS's .consul forwarding is not here: it comes with the cluster
# (k8s/cluster-dns), as every stage needs it.
locals {
  # Chart 39.0.7 ships Traefik v3.6.12 (traefik/traefik-helm-chart PR #1779):
  # the version hack/versions.env pins for the test world's Traefik binary and
  # CRDs, and the minor K3s 1.34 bundles (v3.6.x since k3s-io/k3s PR #13483).
  traefik_chart_version = "39.0.7"
  traefik_namespace     = var.ingress_mode == "traefik-behind-external" ? "traefik" : "kube-system"

  rendered = [
    var.ingress_mode == "traefik-behind-external" ? templatefile("${path.module}/manifests/traefik.yaml", {
      version         = local.traefik_chart_version
      http_node_port  = var.traefik_http_node_port
      https_node_port = var.traefik_https_node_port
      ambient         = var.service_mesh == "istio-ambient"
    }) : "",
    var.ingress_mode == "bundled-traefik" ? file("${path.module}/manifests/bundled-traefik.yaml") : "",
    var.ingress_mode != "external-direct" ? templatefile("${path.module}/manifests/tlsstore.yaml", {
      namespace   = local.traefik_namespace
      secret_name = var.tls_secret_name
    }) : "",
  ]
}

module "apply" {
  source  = "../apply"
  streams = local.rendered
}

# Name resolution the whole platform needs from its first stage on: K3s's
# CoreDNS imports the ConfigMap coredns-custom, which forwards .consul to
# Consul DNS, so pods reach Nomad's services during the hybrid period
# (vault.service.consul for the vault stage's ClusterSecretStore,
# minio-minio.service.consul for Litestream). It comes with the first
# Terraform apply after the cluster stage, whatever stage that is, and stays
# while any stage is applied.
locals {
  rendered = [
    templatefile("${path.module}/manifests/coredns-consul.yaml", {
      servers = var.consul_dns_servers
    }),
  ]
}

module "apply" {
  source  = "../apply"
  streams = local.rendered
}

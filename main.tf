# The Kubernetes side of the PoC. Every stage is switched by enabled_stages
# (the wizard adds one stage per run); the cluster stage itself runs over SSH
# (internal/k3sconfig renders k8s/cluster), so its decisions are only checked
# here and passed on where the platform needs them (CIDRs for policies,
# NodePorts). Cilium, the CNI when service_mesh = cilium, is installed with
# the cluster (k8s/cluster/cilium-helmchart.yaml.tmpl), not by a stage here.

locals {
  # The mesh first, as the decisions and the steps order them: Cilium (the
  # CNI) already came with the cluster stage, and Linkerd's or Istio's node
  # agents are in place before any later stage's pods start.
  stage_order = ["mesh", "storage", "vault", "vpa", "ingress", "services"]
  stage       = { for s in local.stage_order : s => contains(var.enabled_stages, s) }

  servers      = [for n in var.nodes : n if n.role == "server"]
  agents       = [for n in var.nodes : n if n.role == "agent"]
  first_server = length(local.servers) > 0 ? local.servers[0] : var.nodes[0]

  node_port_low   = tonumber(split("-", var.node_port_range)[0])
  node_port_high  = tonumber(split("-", var.node_port_range)[1])
  nomad_port_low  = tonumber(split("-", var.nomad_dynamic_port_range)[0])
  nomad_port_high = tonumber(split("-", var.nomad_dynamic_port_range)[1])

  # external-direct: the external Traefik routes straight to these NodePorts.
  service_node_ports = {
    whoami    = local.node_port_low + 10
    overseerr = local.node_port_low + 11
  }
  node_ports = var.ingress_mode == "traefik-behind-external" ? {
    traefik_web       = var.traefik_http_node_port
    traefik_websecure = var.traefik_https_node_port
    } : var.ingress_mode == "external-direct" ? {
    for s, p in local.service_node_ports : s => p if contains(var.poc_services, s)
  } : {}

  # Where ingress traffic to the PoC services comes from, for mesh policies.
  ingress_namespace = {
    "traefik-behind-external" = "traefik"
    "bundled-traefik"         = "kube-system"
    "external-direct"         = ""
  }[var.ingress_mode]

  # Storage class of the SQLite databases: local or block storage only (WAL
  # does not work on a network filesystem), so never the NFS class.
  local_storage_class = var.storage_backend == "longhorn" ? "longhorn" : (contains(var.k3s_disable, "local-storage") ? "" : "local-path")

  cluster = {
    topology        = var.control_plane_topology
    k3s_version     = var.k3s_version
    servers         = [for n in local.servers : n.name]
    agents          = [for n in local.agents : n.name]
    api_address     = local.first_server.address
    cluster_cidr    = var.cluster_cidr
    service_cidr    = var.service_cidr
    node_port_range = var.node_port_range
    disable         = var.k3s_disable
    system_reserved = var.system_reserved
    kube_reserved   = var.kube_reserved
    cni             = var.service_mesh == "cilium" ? "cilium" : "flannel"
  }

  common_service_inputs = {
    namespace         = var.poc_namespace
    domain            = var.domain
    service_mesh      = local.stage.mesh ? var.service_mesh : "none"
    ingress_mode      = local.stage.ingress ? var.ingress_mode : "none"
    ingress_namespace = local.ingress_namespace
    cluster_cidr      = var.cluster_cidr
    lan_cidr          = var.lan_cidr
    vpa_enabled       = local.stage.vpa
    vpa_update_mode   = var.vpa_update_mode
    vault_method      = local.stage.vault ? var.vault_method : "none"
    vault_kv_mount    = var.vault_kv_mount
    vault_auth_mount  = var.vault_auth_mount
  }

  poc_services = ["whoami", "echo", "overseerr"]

  # During the PoC a service answers at a host of its own (default
  # <service>-k8s.<domain>), so Nomad's <service>.<domain> keeps working; the
  # production host moves at cutover.
  poc_hosts = { for s in local.poc_services : s => replace(replace(var.poc_host_pattern, "{service}", s), "{domain}", var.domain) }

  # The PoC services' policies, then each enabled scaffolded service's
  # (services.generated.tf reads its module's vault.json).
  vault_policies = merge({
    for s in local.poc_services : "poc-${s}" => templatefile("${path.module}/k8s/core/vault-integration/policies/${s}.hcl", { kv_mount = var.vault_kv_mount, overseerr_vault_key = var.overseerr_litestream_vault_key })
    if contains(var.poc_services, s)
  }, { for s, g in local.scaffolded_vault : "scaffolded-${s}" => g.policy })
  vault_roles = merge(
    var.vault_method == "external-secrets" ? {
      "external-secrets" = {
        service_accounts = ["external-secrets"]
        namespaces       = ["external-secrets"]
        policies         = keys(local.vault_policies)
      }
    } : {},
    var.vault_method == "agent-injector" ? {
      for s in local.poc_services : "poc-${s}" => {
        service_accounts = [s]
        namespaces       = [var.poc_namespace]
        policies         = ["poc-${s}"]
      } if contains(var.poc_services, s)
    } : {},
    # A scaffolded module's injected agents log in as scaffolded-<service>
    # (its vault_role default).
    var.vault_method == "agent-injector" ? {
      for s, g in local.scaffolded_vault : "scaffolded-${s}" => {
        service_accounts = tolist(g.service_accounts)
        namespaces       = [var.poc_namespace]
        policies         = ["scaffolded-${s}"]
      }
    } : {},
  )
}

# Decisions that only make sense together. Checked at plan time, before any
# object is created, with the reason in the message.
resource "terraform_data" "decisions" {
  input = local.cluster

  lifecycle {
    precondition {
      condition     = var.vault_ca_file == "" || var.vault_method != "agent-injector"
      error_message = "vault_ca_file reaches only External Secrets' ClusterSecretStore: with vault_method = agent-injector the injected Vault agents would not trust Vault's private CA. Use vault_method = external-secrets, or leave vault_ca_file empty."
    }
    precondition {
      condition     = alltrue([for s in keys(var.services) : contains(local.scaffolded_services, s)])
      error_message = "services names ${join(", ", [for s in keys(var.services) : s if !contains(local.scaffolded_services, s)])}, which have no module block in services.generated.tf: run migrate-tui scaffold for them, or drop them from services."
    }
    precondition {
      condition     = local.nomad_port_high < local.node_port_low || local.node_port_high < local.nomad_port_low
      error_message = "node_port_range ${var.node_port_range} overlaps Nomad's dynamic ports ${var.nomad_dynamic_port_range}: move node_port_range above ${local.nomad_port_high} or lower Nomad's max_dynamic_port."
    }
    precondition {
      condition = var.ingress_mode != "traefik-behind-external" || alltrue([
        for p in [var.traefik_http_node_port, var.traefik_https_node_port] : p >= local.node_port_low && p <= local.node_port_high
      ])
      error_message = "traefik_http_node_port ${var.traefik_http_node_port} and traefik_https_node_port ${var.traefik_https_node_port} must lie inside node_port_range ${var.node_port_range}."
    }
    precondition {
      condition     = var.ingress_mode != "external-direct" || alltrue([for p in values(local.service_node_ports) : p <= local.node_port_high])
      error_message = "external-direct gives each service a NodePort at the bottom of node_port_range ${var.node_port_range} (+10, +11): the range is too small."
    }
    precondition {
      condition = alltrue([for pair in [[var.cluster_cidr, var.service_cidr], [var.cluster_cidr, var.lan_cidr], [var.service_cidr, var.lan_cidr]] :
        !(
          (tonumber(split("/", pair[0])[1]) >= tonumber(split("/", pair[1])[1]) && cidrhost("${split("/", pair[0])[0]}/${split("/", pair[1])[1]}", 0) == cidrhost(pair[1], 0)) ||
          (tonumber(split("/", pair[1])[1]) >= tonumber(split("/", pair[0])[1]) && cidrhost("${split("/", pair[1])[0]}/${split("/", pair[0])[1]}", 0) == cidrhost(pair[0], 0))
        )
      ])
      error_message = "cluster_cidr ${var.cluster_cidr}, service_cidr ${var.service_cidr} and lan_cidr ${var.lan_cidr} must not overlap."
    }
    precondition {
      condition = var.service_mesh != "cilium" || var.cilium_ipam_mode != "cluster-pool" || alltrue([for other in [var.cluster_cidr, var.service_cidr, var.lan_cidr] :
        !(
          (tonumber(split("/", var.cilium_pool_cidr)[1]) >= tonumber(split("/", other)[1]) && cidrhost("${split("/", var.cilium_pool_cidr)[0]}/${split("/", other)[1]}", 0) == cidrhost(other, 0)) ||
          (tonumber(split("/", other)[1]) >= tonumber(split("/", var.cilium_pool_cidr)[1]) && cidrhost("${split("/", other)[0]}/${split("/", var.cilium_pool_cidr)[1]}", 0) == cidrhost(var.cilium_pool_cidr, 0))
        )
      ])
      error_message = "cilium_pool_cidr ${var.cilium_pool_cidr} overlaps cluster_cidr, service_cidr or lan_cidr; pick a pool outside all three (Cilium's default 10.0.0.0/8 would cover them)."
    }
    precondition {
      condition     = length(local.servers) > 0 && (var.control_plane_topology == "ha-3-servers" ? length(local.servers) % 2 == 1 && length(local.servers) >= 3 : length(local.servers) == 1)
      error_message = "control_plane_topology ${var.control_plane_topology} needs ${var.control_plane_topology == "ha-3-servers" ? "an odd number (3 or more) of nodes with role server" : "exactly one node with role server"}; nodes has ${length(local.servers)} server(s)."
    }
    precondition {
      # K3s's Traefik is a LoadBalancer Service that ServiceLB exposes on
      # 80/443 (docs.k3s.io/networking/networking-services): bundled-traefik
      # needs both; any other mode needs both off (ServiceLB binds host ports
      # for any LoadBalancer Service, beside Nomad's). The wizard's
      # cross-checks bundled-traefik-disabled and packaged-traefik-must-be-off
      # say the same.
      condition     = var.ingress_mode == "bundled-traefik" ? !contains(var.k3s_disable, "traefik") && !contains(var.k3s_disable, "servicelb") : contains(var.k3s_disable, "traefik") && contains(var.k3s_disable, "servicelb")
      error_message = "ingress_mode ${var.ingress_mode} ${var.ingress_mode == "bundled-traefik" ? "uses K3s's packaged Traefik, exposed by ServiceLB: remove traefik and servicelb from k3s_disable" : "needs K3s's packaged Traefik and ServiceLB off: k3s_disable must contain traefik and servicelb"}."
    }
    precondition {
      condition     = var.storage_backend != "local-path" || !contains(var.k3s_disable, "local-storage")
      error_message = "storage_backend local-path needs K3s's local-storage: remove local-storage from k3s_disable."
    }
    precondition {
      condition     = var.storage_backend != "glusterfs-nfs" || var.nfs_server != ""
      error_message = "storage_backend glusterfs-nfs needs nfs_server (the host exporting nfs_path)."
    }
  }
}

# ---------------------------------------------------------------- stages ---

# The cluster's .consul forwarding (CoreDNS coredns-custom): every stage's
# pods resolve Nomad's services through it (the vault stage's
# ClusterSecretStore reaches vault.service.consul), so it is applied with
# whichever stage runs first and is in no stage of its own.
module "cluster_dns" {
  source = "./k8s/cluster-dns"
  count  = length(var.consul_dns_servers) > 0 ? 1 : 0

  consul_dns_servers = var.consul_dns_servers

  depends_on = [terraform_data.decisions]
}

module "storage" {
  source = "./k8s/storage"
  count  = local.stage.storage ? 1 : 0

  storage_backend      = var.storage_backend
  glusterfs_mount_root = var.glusterfs_mount_root
  nfs_server           = var.nfs_server
  nfs_path             = var.nfs_path
  node_count           = length(var.nodes)

  depends_on = [module.service_mesh]
}

module "service_mesh" {
  source = "./k8s/core/service-mesh"
  count  = local.stage.mesh && var.service_mesh != "none" ? 1 : 0

  # Cilium's HelmChart belongs to the cluster stage (K3s auto-deploy on the
  # first server): this module applies Linkerd or Istio only.
  service_mesh = var.service_mesh
  # K3s's packaged Traefik brings the Gateway API CRDs (its traefik-crd
  # release); Linkerd's CRD chart must then leave them alone.
  gateway_api_crds_from_k3s = !contains(var.k3s_disable, "traefik")

  depends_on = [terraform_data.decisions]
}

module "vault_integration" {
  source = "./k8s/core/vault-integration"
  count  = local.stage.vault ? 1 : 0

  vault_method     = var.vault_method
  vault_address    = var.vault_address
  vault_kv_mount   = var.vault_kv_mount
  vault_auth_mount = var.vault_auth_mount
  # The CA certificate (not a secret) that signed Vault's certificate.
  vault_ca_bundle = var.vault_ca_file == "" ? "" : file(var.vault_ca_file)

  depends_on = [module.storage, module.cluster_dns]
}

module "vpa" {
  source = "./k8s/core/vpa"
  count  = local.stage.vpa ? 1 : 0

  vpa_update_mode = var.vpa_update_mode

  depends_on = [module.vault_integration]
}

module "ingress" {
  source = "./k8s/ingress"
  count  = local.stage.ingress ? 1 : 0

  ingress_mode            = var.ingress_mode
  traefik_http_node_port  = var.traefik_http_node_port
  traefik_https_node_port = var.traefik_https_node_port
  tls_secret_name         = var.tls_secret_name
  service_mesh            = local.stage.mesh ? var.service_mesh : "none"

  depends_on = [module.vpa]
}

# -------------------------------------------------------------- services ---

module "poc_namespace" {
  source = "./modules-k8s/poc-namespace"
  count  = local.stage.services ? 1 : 0

  namespace    = var.poc_namespace
  service_mesh = local.common_service_inputs.service_mesh

  depends_on = [module.ingress]
}

module "whoami" {
  source = "./modules-k8s/whoami"
  count  = local.stage.services && contains(var.poc_services, "whoami") ? 1 : 0

  namespace         = module.poc_namespace[0].namespace
  domain            = local.common_service_inputs.domain
  host              = local.poc_hosts["whoami"]
  service_mesh      = local.common_service_inputs.service_mesh
  ingress_mode      = local.common_service_inputs.ingress_mode
  ingress_namespace = local.common_service_inputs.ingress_namespace
  cluster_cidr      = local.common_service_inputs.cluster_cidr
  lan_cidr          = local.common_service_inputs.lan_cidr
  vpa_enabled       = local.common_service_inputs.vpa_enabled
  vpa_update_mode   = local.common_service_inputs.vpa_update_mode
  node_port         = local.service_node_ports.whoami
}

module "echo" {
  source = "./modules-k8s/echo"
  count  = local.stage.services && contains(var.poc_services, "echo") ? 1 : 0

  namespace       = module.poc_namespace[0].namespace
  service_mesh    = local.common_service_inputs.service_mesh
  vpa_enabled     = local.common_service_inputs.vpa_enabled
  vpa_update_mode = local.common_service_inputs.vpa_update_mode
  allowed_clients = ["whoami"]
}

module "overseerr" {
  source = "./modules-k8s/overseerr"
  count  = local.stage.services && contains(var.poc_services, "overseerr") ? 1 : 0

  namespace            = module.poc_namespace[0].namespace
  domain               = local.common_service_inputs.domain
  host                 = local.poc_hosts["overseerr"]
  service_mesh         = local.common_service_inputs.service_mesh
  ingress_mode         = local.common_service_inputs.ingress_mode
  ingress_namespace    = local.common_service_inputs.ingress_namespace
  cluster_cidr         = local.common_service_inputs.cluster_cidr
  lan_cidr             = local.common_service_inputs.lan_cidr
  vpa_enabled          = local.common_service_inputs.vpa_enabled
  vpa_update_mode      = local.common_service_inputs.vpa_update_mode
  node_port            = local.service_node_ports.overseerr
  vault_method         = local.common_service_inputs.vault_method
  vault_kv_mount       = local.common_service_inputs.vault_kv_mount
  vault_auth_mount     = local.common_service_inputs.vault_auth_mount
  storage_backend      = var.storage_backend
  local_storage_class  = local.local_storage_class
  glusterfs_mount_root = var.glusterfs_mount_root
  minio_endpoint       = var.minio_endpoint
  litestream_bucket    = var.overseerr_litestream_bucket
  litestream_version   = var.overseerr_litestream_version
  litestream_vault_key = var.overseerr_litestream_vault_key
}

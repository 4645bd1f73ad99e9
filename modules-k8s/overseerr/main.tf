# overseerr: the stateful PoC service. A StatefulSet whose SQLite database is
# restored by a Litestream init container and replicated back by a Litestream
# sidecar into this copy's own bucket (its own credentials), so it never
# fights the Nomad copy. On the first start, while its own bucket holds no
# replica, the init container seeds the database from the Nomad copy's
# replica (seed_bucket): a restore only reads that bucket.
# The database lives on local or block storage only (WAL does not work over
# NFS or FUSE); the rest of /app/config may live on the GlusterFS volume.
locals {
  name     = "overseerr"
  version  = "1.34.0"
  port     = 5055
  instance = "${local.name}-${var.namespace}"
  # Labels that never change between versions: a StatefulSet's
  # volumeClaimTemplates are immutable (k8s.io/kubernetes
  # pkg/apis/apps/validation ValidateStatefulSetUpdate allows only replicas,
  # template, updateStrategy, ordinals, minReadySeconds and the PVC retention
  # policy to change), so they must not carry the version label.
  stable_labels = {
    "app.kubernetes.io/name"       = local.name
    "app.kubernetes.io/instance"   = local.instance
    "app.kubernetes.io/component"  = "web"
    "app.kubernetes.io/part-of"    = "migrate-tui-poc"
    "app.kubernetes.io/managed-by" = "terraform"
  }
  labels            = merge(local.stable_labels, { "app.kubernetes.io/version" = local.version })
  config_on_gluster = contains(["glusterfs-hostpath", "glusterfs-nfs"], var.storage_backend)
  config_class      = var.storage_backend == "longhorn" ? "longhorn" : "local-path"

  # The init container's script: the agent injector's env file first, then a
  # restore from this copy's own bucket, then (only while the database is
  # still missing) from the Nomad copy's replica.
  db = "/app/config/db/db.sqlite3"
  restore_script = join("\n", compact([
    var.vault_method == "agent-injector" ? ". /vault/secrets/litestream.env" : "",
    "litestream restore -config /etc/litestream/litestream.yml -if-db-not-exists -if-replica-exists ${local.db}",
    var.seed_bucket != "" ? "[ -e ${local.db} ] || litestream restore -config /etc/litestream/seed.yml -if-db-not-exists -if-replica-exists ${local.db}" : "",
  ]))

  vars = {
    name              = local.name
    restore_script    = local.restore_script
    namespace         = var.namespace
    instance          = local.instance
    labels            = trimspace(yamlencode(local.labels))
    stable_labels     = trimspace(yamlencode(local.stable_labels))
    image             = "sctx/overseerr:${local.version}"
    litestream_image  = "litestream/litestream:${var.litestream_version}"
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
    target_kind       = "StatefulSet"
    update_mode       = var.vpa_update_mode
    vault_method      = var.vault_method
    kv_mount          = var.vault_kv_mount
    auth_mount        = var.vault_auth_mount
    db_class          = var.local_storage_class
    config_on_gluster = local.config_on_gluster
    config_class      = local.config_class
    storage_backend   = var.storage_backend
    gluster_path      = "${trimsuffix(var.glusterfs_mount_root, "/")}/glusterfs_overseerr_config"
    minio_endpoint    = var.minio_endpoint
    bucket            = var.litestream_bucket
    vault_key         = var.litestream_vault_key
    nomad_vault_key   = "default/${local.name}"
    seed_bucket       = var.seed_bucket
    seed_path         = var.seed_path
  }

  own = {
    "statefulset.yaml"    = true
    "externalsecret.yaml" = var.vault_method == "external-secrets"
    "config-volume.yaml"  = local.config_on_gluster
  }
  shared = {
    "service.yaml"                    = true
    "ingressroute.yaml"               = contains(["traefik-behind-external", "bundled-traefik"], var.ingress_mode)
    "vpa.yaml"                        = var.vpa_enabled
    "policy-${var.service_mesh}.yaml" = var.service_mesh != "none" && var.ingress_mode != "none"
  }

  rendered = concat(
    [for f, on in local.own : templatefile("${path.module}/manifests/${f}", local.vars) if on],
    [for f, on in local.shared : templatefile("${path.module}/../shared/manifests/${f}", local.vars) if on],
  )
}

module "apply" {
  source  = "../../k8s/apply"
  streams = local.rendered
}

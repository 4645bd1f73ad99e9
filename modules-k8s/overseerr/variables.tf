variable "namespace" {
  description = "Namespace of the PoC services."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label."
  }
}

variable "service_mesh" {
  description = "Mesh whose policy resources express who may call this service (none: no policy objects)."
  type        = string
  default     = "none"
  validation {
    condition     = contains(["cilium", "linkerd", "istio-ambient", "none"], var.service_mesh)
    error_message = "service_mesh must be cilium, linkerd, istio-ambient or none."
  }
}

variable "vpa_enabled" {
  description = "Whether the VPA stage is installed (the VerticalPodAutoscaler CRD exists)."
  type        = bool
  default     = false
}

variable "vpa_update_mode" {
  description = "updateMode of this service's VerticalPodAutoscaler; Off only recommends."
  type        = string
  default     = "Off"
  validation {
    condition     = contains(["Off", "Initial", "Recreate", "Auto"], var.vpa_update_mode)
    error_message = "vpa_update_mode must be Off, Initial, Recreate or Auto (the modes the pinned VPA accepts)."
  }
}

variable "domain" {
  description = "DNS domain; the service answers at <name>.<domain>."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$", var.domain))
    error_message = "domain must be a DNS name such as example.org."
  }
}

variable "host" {
  description = "Host the service answers at through the ingress: the root module's poc_host_pattern filled in (<service>-k8s.<domain> by default, so Nomad's host is not shadowed during the PoC)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$", var.host))
    error_message = "host must be a DNS name such as whoami-k8s.example.org."
  }
}

variable "ingress_mode" {
  description = "traefik-behind-external or bundled-traefik (an IngressRoute), external-direct (a NodePort) or none (ClusterIP only)."
  type        = string
  default     = "none"
  validation {
    condition     = contains(["traefik-behind-external", "bundled-traefik", "external-direct", "none"], var.ingress_mode)
    error_message = "ingress_mode must be traefik-behind-external, bundled-traefik, external-direct or none."
  }
}

variable "ingress_namespace" {
  description = "Namespace of the Traefik that forwards to this service (empty for external-direct)."
  type        = string
  default     = ""
  validation {
    condition     = var.ingress_namespace == "" || can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.ingress_namespace))
    error_message = "ingress_namespace must be empty or a DNS label."
  }
}

variable "cluster_cidr" {
  description = "Pod CIDR: where ingress traffic comes from when the ingress is not in the mesh."
  type        = string
  validation {
    condition     = can(cidrhost(var.cluster_cidr, 0))
    error_message = "cluster_cidr must be a CIDR."
  }
}

variable "lan_cidr" {
  description = "The LAN: where NodePort traffic comes from (external-direct)."
  type        = string
  validation {
    condition     = can(cidrhost(var.lan_cidr, 0))
    error_message = "lan_cidr must be a CIDR."
  }
}

variable "node_port" {
  description = "NodePort of the service when ingress_mode = external-direct."
  type        = number
  validation {
    condition     = var.node_port >= 1 && var.node_port <= 65535
    error_message = "node_port must be a port number."
  }
}

variable "vault_method" {
  description = "Where the Litestream credentials come from: external-secrets (an ExternalSecret), agent-injector (Vault Agent annotations) or none (a Secret overseerr-vault made by other means, optional)."
  type        = string
  default     = "none"
  validation {
    condition     = contains(["external-secrets", "agent-injector", "none"], var.vault_method)
    error_message = "vault_method must be external-secrets, agent-injector or none."
  }
}

variable "vault_kv_mount" {
  description = "KV v2 mount holding default/overseerr (the Nomad job's secret)."
  type        = string
  default     = "nomad"
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]+$", var.vault_kv_mount))
    error_message = "vault_kv_mount must be a mount name."
  }
}

variable "vault_auth_mount" {
  description = "Vault auth mount of the cluster's Kubernetes auth (agent-injector)."
  type        = string
  default     = "kubernetes-k3s"
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]+$", var.vault_auth_mount))
    error_message = "vault_auth_mount must be a mount name."
  }
}

variable "storage_backend" {
  description = "Backend of the config volume: local-path, longhorn, glusterfs-hostpath or glusterfs-nfs. The database never goes on it unless it is local or block storage."
  type        = string
  validation {
    condition     = contains(["local-path", "longhorn", "glusterfs-hostpath", "glusterfs-nfs"], var.storage_backend)
    error_message = "storage_backend must be local-path, longhorn, glusterfs-hostpath or glusterfs-nfs."
  }
}

variable "local_storage_class" {
  description = "StorageClass of the SQLite database: local or block storage only (local-path, longhorn); empty means an emptyDir that Litestream restores at every start."
  type        = string
  validation {
    condition     = contains(["local-path", "longhorn", ""], var.local_storage_class)
    error_message = "local_storage_class must be local-path, longhorn or empty: SQLite WAL does not work on a network filesystem."
  }
}

variable "glusterfs_mount_root" {
  description = "Where the GlusterFS volumes are mounted on every host (glusterfs-hostpath)."
  type        = string
  default     = "/storage/v"
  validation {
    condition     = startswith(var.glusterfs_mount_root, "/")
    error_message = "glusterfs_mount_root must be an absolute path."
  }
}

variable "minio_endpoint" {
  description = "MinIO S3 endpoint Litestream replicates to."
  type        = string
  validation {
    condition     = can(regex("^https?://", var.minio_endpoint))
    error_message = "minio_endpoint must start with http:// or https://."
  }
}

variable "litestream_bucket" {
  description = "This copy's own Litestream bucket, never the Nomad copy's."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.litestream_bucket)) && var.litestream_bucket != "overseerr-litestream"
    error_message = "litestream_bucket must be a bucket name other than overseerr-litestream (the Nomad copy's)."
  }
}

variable "litestream_version" {
  description = "Tag of the litestream/litestream image. Must match the Nomad job's Litestream: 0.3 cannot restore the on-bucket format 0.5 writes."
  type        = string
  default     = "0.5"
  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+(\\.[0-9]+)?$", var.litestream_version))
    error_message = "litestream_version must be a version such as 0.5 or 0.5.18."
  }
}

variable "litestream_vault_key" {
  description = "Key (in vault_kv_mount) of this copy's own S3 credentials, MINIO_ACCESS_KEY and MINIO_SECRET_KEY, for litestream_bucket; never the Nomad job's default/overseerr."
  type        = string
  default     = "default/overseerr-k8s"
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.litestream_vault_key)) && var.litestream_vault_key != "default/overseerr"
    error_message = "litestream_vault_key must be a KV path other than default/overseerr (the Nomad copy's credentials)."
  }
}

variable "seed_bucket" {
  description = "The Nomad copy's Litestream bucket, read (restore only) on the first start while litestream_bucket holds no replica; empty: start with an empty database."
  type        = string
  default     = "overseerr-litestream"
  validation {
    condition     = var.seed_bucket == "" || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.seed_bucket))
    error_message = "seed_bucket must be empty or a bucket name."
  }
}

variable "seed_path" {
  description = "Path of the Nomad copy's replica inside seed_bucket (the Nomad job's litestream.yml path)."
  type        = string
  default     = "db"
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.seed_path))
    error_message = "seed_path must be a relative object path such as db."
  }
}

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
    condition     = contains(["Off", "Initial", "Recreate", "InPlaceOrRecreate", "Auto"], var.vpa_update_mode)
    error_message = "vpa_update_mode must be Off, Initial, Recreate, InPlaceOrRecreate or Auto."
  }
}

variable "host" {
  description = "Host the service answers at through the ingress (default: the Nomad job's Traefik router Host rule; empty: no IngressRoute)."
  type        = string
  default     = @@HOST@@
  validation {
    condition     = var.host == "" || can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$", var.host))
    error_message = "host must be empty or a DNS name such as app.example.org."
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
  description = "NodePort of the service when ingress_mode = external-direct (0 otherwise)."
  type        = number
  default     = 0
  validation {
    condition     = var.node_port >= 0 && var.node_port <= 65535
    error_message = "node_port must be 0 or a port number."
  }
}

variable "allowed_clients" {
  description = "Services (their ServiceAccount / app.kubernetes.io/name) allowed to call this one through the mesh."
  type        = list(string)
  default     = []
}

variable "storage_backend" {
  description = "Backend of the Nomad volumes' claims: local-path, longhorn, glusterfs-hostpath or glusterfs-nfs (the storage decision)."
  type        = string
  default     = "local-path"
  validation {
    condition     = contains(["local-path", "longhorn", "glusterfs-hostpath", "glusterfs-nfs"], var.storage_backend)
    error_message = "storage_backend must be local-path, longhorn, glusterfs-hostpath or glusterfs-nfs."
  }
}

variable "volume_size" {
  description = "Requested size of each claim made from the Nomad job's volumes (scaffold --volume-size); a bound claim only grows, and only where its StorageClass allows expansion."
  type        = string
  default     = @@VOLUME_SIZE@@
  nullable    = false
  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$", var.volume_size))
    error_message = "volume_size must be a Kubernetes quantity such as 10Gi."
  }
}

variable "volume_sizes" {
  description = "Sizes of single claims (claim name => quantity), overriding volume_size."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for q in values(var.volume_sizes) : can(regex("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$", q))])
    error_message = "volume_sizes values must be Kubernetes quantities such as 10Gi."
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

variable "vault_method" {
  description = "Where the Vault templates' secrets come from: external-secrets (ExternalSecrets), agent-injector (Vault Agent injector annotations rendering the same reads) or none (Secrets of the same names made by other means)."
  type        = string
  default     = "none"
  validation {
    condition     = contains(["external-secrets", "agent-injector", "none"], var.vault_method)
    error_message = "vault_method must be external-secrets, agent-injector or none."
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

variable "vault_role" {
  description = "Vault Kubernetes-auth role the injected agent logs in with (agent-injector); it must allow this module's ServiceAccounts and read the job's Vault paths."
  type        = string
  default     = @@ROLE@@
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+$", var.vault_role))
    error_message = "vault_role must be a Vault role name."
  }
}

variable "secret_store" {
  description = "ClusterSecretStore (External Secrets) holding the Nomad jobs' KV mount."
  type        = string
  default     = "vault"
}

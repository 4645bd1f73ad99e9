variable "storage_backend" {
  description = "local-path, longhorn, glusterfs-hostpath or glusterfs-nfs."
  type        = string
  validation {
    condition     = contains(["local-path", "longhorn", "glusterfs-hostpath", "glusterfs-nfs"], var.storage_backend)
    error_message = "storage_backend must be local-path, longhorn, glusterfs-hostpath or glusterfs-nfs."
  }
}

variable "glusterfs_mount_root" {
  description = "Where the GlusterFS volumes are mounted on every host."
  type        = string
  validation {
    condition     = startswith(var.glusterfs_mount_root, "/")
    error_message = "glusterfs_mount_root must be an absolute path."
  }
}

variable "nfs_server" {
  description = "NFS server for glusterfs-nfs."
  type        = string
  validation {
    condition     = var.nfs_server == "" || can(regex("^[A-Za-z0-9.-]+$", var.nfs_server))
    error_message = "nfs_server must be a host name or address."
  }
}

variable "nfs_path" {
  description = "Exported path on nfs_server."
  type        = string
  validation {
    condition     = startswith(var.nfs_path, "/")
    error_message = "nfs_path must be an absolute path."
  }
}

variable "node_count" {
  description = "Number of nodes, to cap Longhorn's replica count."
  type        = number
  validation {
    condition     = var.node_count >= 1
    error_message = "node_count must be at least 1."
  }
}

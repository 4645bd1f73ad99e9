output "storage_class" {
  description = "StorageClass for PoC volumes (empty for glusterfs-hostpath: static PVs, no class)."
  value = {
    "local-path"         = "local-path"
    "longhorn"           = "longhorn"
    "glusterfs-hostpath" = ""
    "glusterfs-nfs"      = "glusterfs-nfs"
  }[var.storage_backend]
}

output "objects" {
  description = "Objects this stage applied (kind/namespace/name)."
  value       = module.apply.objects
}

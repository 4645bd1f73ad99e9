# Storage for the PoC volumes.
# - local-path: K3s's packaged local-path provisioner; nothing to install.
# - longhorn: the Longhorn chart (needs open-iscsi on every node).
# - glusterfs-hostpath: the hosts' GlusterFS mounts as static hostPath
#   PersistentVolumes with no StorageClass; each service module creates its
#   own PV under glusterfs_mount_root, so nothing is installed here.
# - glusterfs-nfs: the NFS subdir provisioner on the GlusterFS NFS export;
#   volumes are named by the PVC annotation nfs.io/storage-path, so a service
#   can reuse its Nomad volume (glusterfs_<service>_<type>).
locals {
  chart_versions = {
    longhorn   = "1.10.0"
    nfs_subdir = "4.0.18"
  }

  rendered = [
    var.storage_backend == "longhorn" ? templatefile("${path.module}/manifests/longhorn.yaml", {
      version       = local.chart_versions.longhorn
      replica_count = min(3, var.node_count)
    }) : "",
    var.storage_backend == "glusterfs-nfs" ? templatefile("${path.module}/manifests/nfs-subdir.yaml", {
      version    = local.chart_versions.nfs_subdir
      nfs_server = var.nfs_server
      nfs_path   = var.nfs_path
    }) : "",
  ]
}

module "apply" {
  source  = "../apply"
  streams = local.rendered
}

output "name" {
  description = "Name of the StatefulSet and Service."
  value       = local.name
}

output "url" {
  description = "Where overseerr answers."
  value       = var.ingress_mode == "external-direct" ? "http://<node>:${var.node_port}" : "https://${var.host}"
}

output "litestream_bucket" {
  description = "The bucket this copy replicates to."
  value       = var.litestream_bucket
}

output "objects" {
  description = "Objects applied (kind/namespace/name)."
  value       = module.apply.objects
}

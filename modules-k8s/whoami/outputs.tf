output "name" {
  description = "Name of the Deployment and Service."
  value       = local.name
}

output "url" {
  description = "Where whoami answers."
  value       = var.ingress_mode == "external-direct" ? "http://<node>:${var.node_port}" : "https://${var.host}"
}

output "objects" {
  description = "Objects applied (kind/namespace/name)."
  value       = module.apply.objects
}

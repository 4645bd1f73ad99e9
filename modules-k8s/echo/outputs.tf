output "name" {
  description = "Name of the Deployment and Service."
  value       = local.name
}

output "url" {
  description = "Where echo answers, inside the cluster only."
  value       = "http://${local.name}.${var.namespace}.svc"
}

output "objects" {
  description = "Objects applied (kind/namespace/name)."
  value       = module.apply.objects
}

output "traefik_namespace" {
  description = "Namespace of the Traefik that serves the PoC (null for external-direct)."
  value       = var.ingress_mode == "external-direct" ? null : local.traefik_namespace
}

output "objects" {
  description = "Objects this stage applied (kind/namespace/name)."
  value       = module.apply.objects
}

output "namespace" {
  description = "Namespace of the VPA components."
  value       = "vpa"
}

output "admission_controller" {
  description = "Whether the updater and admission controller are installed (vpa_update_mode other than Off)."
  value       = local.acts
}

output "objects" {
  description = "Objects this stage applied (kind/namespace/name)."
  value       = module.apply.objects
}

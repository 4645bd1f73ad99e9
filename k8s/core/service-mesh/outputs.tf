output "chart_versions" {
  description = "Pinned chart versions of the mesh."
  value       = local.chart_versions
}

output "objects" {
  description = "Objects this stage applied (kind/namespace/name)."
  value       = module.apply.objects
}

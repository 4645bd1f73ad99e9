output "objects" {
  description = "Objects this module applied (kind/namespace/name)."
  value       = module.apply.objects
}

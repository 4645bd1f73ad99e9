output "objects" {
  description = "Keys (kind/namespace/name) of every object applied."
  value       = sort(keys(local.objects))
}

output "ids" {
  description = "Provider ids of the applied objects, for depends_on chains."
  value       = concat([for o in kubectl_manifest.namespaces : o.id], [for o in kubectl_manifest.service_accounts : o.id], [for o in kubectl_manifest.objects : o.id])
}

output "namespace" {
  description = "The PoC namespace, once it and its default deny exist."
  value       = var.namespace
  depends_on  = [module.apply]
}

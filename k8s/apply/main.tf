# Applies YAML streams as one kubectl_manifest per object, keyed by
# kind/namespace/name, so a change to one object touches only that object.
# Namespaces are created first and deleted last, and every delete waits until
# the object is gone, so a destroy leaves nothing behind.
locals {
  documents = flatten([for stream in var.streams : [
    for doc in split("\n---\n", "\n${stream}\n") : trimspace(doc) if try(yamldecode(doc).kind, null) != null
  ]])
  objects = {
    for doc in local.documents :
    format("%s/%s/%s", yamldecode(doc).kind, try(yamldecode(doc).metadata.namespace, ""), yamldecode(doc).metadata.name) => doc
  }
}

resource "kubectl_manifest" "namespaces" {
  for_each = { for k, v in local.objects : k => v if startswith(k, "Namespace/") }

  yaml_body        = each.value
  wait             = true
  wait_for_rollout = false
}

resource "kubectl_manifest" "objects" {
  for_each = { for k, v in local.objects : k => v if !startswith(k, "Namespace/") }

  yaml_body        = each.value
  wait             = true
  wait_for_rollout = false

  depends_on = [kubectl_manifest.namespaces]
}

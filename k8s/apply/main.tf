# Applies YAML streams as one kubectl_manifest per object, keyed by
# kind/namespace/name, so a change to one object touches only that object.
# Namespaces, then ServiceAccounts, are created first and deleted last. A
# namespace's delete waits until the namespace is gone (and with it whatever
# controllers made inside it), so a destroy leaves nothing; other objects are
# deleted in the background (the provider polls a waited delete every 10 s,
# which would make a destroy minutes long for nothing).
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

# ServiceAccounts before the rest: the API server's token controller deletes
# a service-account-token Secret whose ServiceAccount does not exist yet.
resource "kubectl_manifest" "service_accounts" {
  for_each = { for k, v in local.objects : k => v if startswith(k, "ServiceAccount/") }

  yaml_body        = each.value
  wait             = false
  wait_for_rollout = false

  depends_on = [kubectl_manifest.namespaces]
}

resource "kubectl_manifest" "objects" {
  for_each = { for k, v in local.objects : k => v if !startswith(k, "Namespace/") && !startswith(k, "ServiceAccount/") }

  yaml_body        = each.value
  wait             = false
  wait_for_rollout = false

  depends_on = [kubectl_manifest.namespaces, kubectl_manifest.service_accounts]
}

# Vault policy of the PoC service whoami: read its own secrets only.
# ${kv_mount} is the KV v2 mount (variable vault_kv_mount); the Vault stage
# renders it (or reads the root output vault_policies) and writes the policy
# as poc-whoami.
path "${kv_mount}/data/default/whoami" {
  capabilities = ["read"]
}

path "${kv_mount}/metadata/default/whoami" {
  capabilities = ["read", "list"]
}

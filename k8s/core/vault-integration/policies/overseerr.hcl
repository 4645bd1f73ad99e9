# Vault policy of the PoC service overseerr: read its own secrets only.
# ${kv_mount} is the KV v2 mount (variable vault_kv_mount); the Vault stage
# renders it (or reads the root output vault_policies) and writes the policy
# as poc-overseerr.
path "${kv_mount}/data/default/overseerr" {
  capabilities = ["read"]
}

path "${kv_mount}/metadata/default/overseerr" {
  capabilities = ["read", "list"]
}

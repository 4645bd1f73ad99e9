# Vault policy of the PoC service echo: read its own secrets only.
# ${kv_mount} is the KV v2 mount (variable vault_kv_mount); the Vault stage
# renders it (or reads the root output vault_policies) and writes the policy
# as poc-echo.
path "${kv_mount}/data/default/echo" {
  capabilities = ["read"]
}

path "${kv_mount}/metadata/default/echo" {
  capabilities = ["read", "list"]
}

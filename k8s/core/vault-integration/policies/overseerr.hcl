# Vault policy of the PoC service overseerr: read its own secrets only.
# ${kv_mount} is the KV v2 mount (variable vault_kv_mount); the Vault stage
# renders it (or reads the root output vault_policies) and writes the policy
# as poc-overseerr.
#
# default/overseerr is the Nomad job's secret: the K3s copy reads its MinIO
# keys only to seed its database from the Nomad copy's replica (a Litestream
# restore, which reads the bucket and never writes it).
path "${kv_mount}/data/default/overseerr" {
  capabilities = ["read"]
}

path "${kv_mount}/metadata/default/overseerr" {
  capabilities = ["read", "list"]
}

# ${overseerr_vault_key} (overseerr_litestream_vault_key): the K3s copy's own
# S3 credentials for its own Litestream bucket.
path "${kv_mount}/data/${overseerr_vault_key}" {
  capabilities = ["read"]
}

path "${kv_mount}/metadata/${overseerr_vault_key}" {
  capabilities = ["read", "list"]
}

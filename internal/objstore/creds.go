package objstore

import (
	"context"
	"fmt"
)

// Env names that, when both set, override Vault: the names Litestream itself
// reads, so an operator can check with the very values the pod would get.
const (
	EnvAccessKey = "LITESTREAM_ACCESS_KEY_ID"
	EnvSecretKey = "LITESTREAM_SECRET_ACCESS_KEY"
)

// The keys of the Vault secret (the Nomad job's convention, kept for the
// Kubernetes copy's own secret).
const (
	VaultAccessKey = "MINIO_ACCESS_KEY"
	VaultSecretKey = "MINIO_SECRET_KEY"
)

// KVReader reads a KV v2 secret's data (mount, key as in `vault kv get
// -mount=MOUNT KEY`); nil data and nil error means it does not exist.
type KVReader interface {
	ReadKV(ctx context.Context, mount, key string) (map[string]any, error)
}

// CredentialsFrom returns the credentials from the environment when both
// EnvAccessKey and EnvSecretKey are set, else from Vault mount/key. from
// says where they came from, for messages.
func CredentialsFrom(ctx context.Context, getenv func(string) string, kv KVReader, mount, key string) (c Credentials, from string, err error) {
	if a, s := getenv(EnvAccessKey), getenv(EnvSecretKey); a != "" && s != "" {
		return Credentials{AccessKey: a, SecretKey: s}, "the environment (" + EnvAccessKey + ", " + EnvSecretKey + ")", nil
	}
	from = "Vault " + mount + "/" + key
	if kv == nil {
		return c, from, fmt.Errorf("no Vault client (VAULT_ADDR, VAULT_TOKEN unset) and %s/%s not both set: export them, or a Vault token that may read %s", EnvAccessKey, EnvSecretKey, from)
	}
	data, err := kv.ReadKV(ctx, mount, key)
	if err != nil {
		return c, from, fmt.Errorf("reading %s: %w", from, err)
	}
	if data == nil {
		return c, from, fmt.Errorf("%s does not exist: write the Kubernetes copy's own S3 credentials there (vault kv put -mount=%s %s %s=... %s=...)", from, mount, key, VaultAccessKey, VaultSecretKey)
	}
	a, _ := data[VaultAccessKey].(string)
	s, _ := data[VaultSecretKey].(string)
	if a == "" || s == "" {
		return c, from, fmt.Errorf("%s lacks %s or %s: add them (vault kv patch -mount=%s %s ...)", from, VaultAccessKey, VaultSecretKey, mount, key)
	}
	return Credentials{AccessKey: a, SecretKey: s}, from, nil
}

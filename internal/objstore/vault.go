package objstore

import (
	"context"
	"errors"

	vaultapi "github.com/hashicorp/vault/api"
)

// VaultKV reads KV v2 secrets through github.com/hashicorp/vault/api.
type VaultKV struct{ Client *vaultapi.Client }

// ReadKV returns the secret's data, nil when it does not exist.
func (v VaultKV) ReadKV(ctx context.Context, mount, key string) (map[string]any, error) {
	s, err := v.Client.KVv2(mount).Get(ctx, key)
	if errors.Is(err, vaultapi.ErrSecretNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.Data, nil
}

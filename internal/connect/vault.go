package connect

import (
	"errors"
	"fmt"
	"os"

	vaultapi "github.com/hashicorp/vault/api"
)

// VaultPrecedence is where the Vault address and token come from: the
// environment only, so the token is never in a flag (shell history), the
// state or terraform.tfvars.
const VaultPrecedence = "$VAULT_ADDR and $VAULT_TOKEN (TLS from $VAULT_CACERT); the token is never stored"

// ErrNoVaultToken: Vault work was asked for without a token.
var ErrNoVaultToken = errors.New("VAULT_TOKEN is not set: export a Vault token allowed to manage sys/auth, sys/policies/acl and auth/* (and VAULT_ADDR), then retry")

// VaultConfigured reports whether both VAULT_ADDR and VAULT_TOKEN are set
// (optional Vault work is skipped otherwise).
func VaultConfigured() bool { return os.Getenv("VAULT_ADDR") != "" && os.Getenv("VAULT_TOKEN") != "" }

// Vault builds the Vault client by VaultPrecedence; ErrNoVaultToken without
// a token. It does not contact Vault.
func Vault() (*vaultapi.Client, error) {
	if os.Getenv("VAULT_TOKEN") == "" {
		return nil, ErrNoVaultToken
	}
	vc, err := vaultapi.NewClient(vaultapi.DefaultConfig())
	if err != nil {
		return nil, fmt.Errorf("Vault client for %s: %w", os.Getenv("VAULT_ADDR"), err)
	}
	return vc, nil
}

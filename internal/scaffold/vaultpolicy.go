package scaffold

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// VaultFile is the module file naming what Vault must grant it: the
// root's services.generated.tf reads it into the vault_policies and
// vault_roles outputs, which the vault stage writes to Vault.
const VaultFile = "vault.json"

// vaultGrant is VaultFile's content.
type vaultGrant struct {
	// Policy is the Vault policy (HCL): read on every path the job's
	// templates read, this copy's own Litestream key at its default.
	Policy string `json:"policy"`
	// ServiceAccounts are the workloads' ServiceAccounts (agent-injector's
	// role binds them).
	ServiceAccounts []string `json:"service_accounts"`
	// LitestreamVaultKey is litestream_vault_key's default; the policy
	// names the key as @@litestream_vault_key@@, which the root replaces
	// with services[<svc>].litestream_vault_key, else this.
	LitestreamVaultKey string `json:"litestream_vault_key,omitempty"`
}

// vaultJSON renders VaultFile ("" when the job reads no Vault secret).
func (m *model) vaultJSON() (string, error) {
	paths := map[string]bool{}
	sas := map[string]bool{}
	for _, s := range m.secrets {
		sas[s.group] = true
		for _, k := range s.keys {
			paths[k.path] = true
		}
	}
	if len(paths) == 0 {
		return "", nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Vault policy of the scaffolded service %s: read what the Nomad job's templates read.\n", m.svc)
	for _, p := range sortedKeys(paths) {
		fmt.Fprintf(&b, "path %q {\n  capabilities = [\"read\"]\n}\n", p)
	}
	g := vaultGrant{Policy: b.String(), ServiceAccounts: sortedKeys(sas)}
	if m.ls.key != "" {
		g.LitestreamVaultKey = m.ls.key + "-k8s"
	}
	sort.Strings(g.ServiceAccounts)
	out, err := json.MarshalIndent(g, "", "  ")
	return string(out) + "\n", err
}

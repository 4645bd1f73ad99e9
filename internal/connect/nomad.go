package connect

import (
	"os"

	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/state"
)

// NomadPrecedence is where the Nomad address and token come from.
const NomadPrecedence = "--nomad-addr, else $NOMAD_ADDR, else the address preflight recorded, else Nomad's default; the token only from $NOMAD_TOKEN (never stored)"

// NomadAddrHelp is the --nomad-addr flag's usage in every command that
// takes it.
const NomadAddrHelp = "Nomad API address; taken from " + NomadPrecedence

// NomadAddr applies NomadPrecedence to the address ("" leaves Nomad's own
// default). st may be nil (no state yet).
func NomadAddr(flag string, st *state.State) string {
	if flag != "" {
		return flag
	}
	if a := os.Getenv("NOMAD_ADDR"); a != "" {
		return a
	}
	if st != nil && st.Preflight != nil {
		return st.Preflight.NomadAddr
	}
	return ""
}

// Nomad builds the Nomad client by NomadPrecedence (TLS settings from
// NOMAD_CACERT and friends). It does not contact Nomad.
func Nomad(flag string, st *state.State) (*nomadwatch.Client, error) {
	return nomadwatch.NewClient(NomadAddr(flag, st), os.Getenv("NOMAD_TOKEN"))
}

// Package specdocs keeps the feature's documents in
// specs/003-nomad-to-kubernetes true to the code: it generates the parts
// that can be generated (the tfvars keys, the module pattern) and its tests
// check the rest (check IDs, JSON Schemas against real command output, the
// exit-code table against the real commands, the data model's mapping
// against modules-k8s).
//
// Regenerate the generated contracts with
//
//	go test ./internal/specdocs -run TestGenerated -update
package specdocs

import (
	"os"
	"path/filepath"
)

// Dir is the feature's documents, relative to the repository.
const Dir = "specs/003-nomad-to-kubernetes"

// ContractsDir holds the contracts, relative to the repository.
const ContractsDir = Dir + "/contracts"

// Read returns a document of the feature, path relative to Dir.
func Read(repo, path string) (string, error) {
	b, err := os.ReadFile(filepath.Join(repo, Dir, path))
	return string(b), err
}

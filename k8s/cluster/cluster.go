// Package cluster holds the K3s installation templates (config.yaml,
// install.sh, uninstall.sh) that internal/k3sconfig renders per node. They
// live here, beside the Terraform of the later stages, so the repository is
// the one place that says how the PoC is installed.
package cluster

import "embed"

// Templates are the text/template sources, by file name.
//
//go:embed config.yaml.tmpl install.sh.tmpl uninstall.sh.tmpl cilium-helmchart.yaml.tmpl
var Templates embed.FS

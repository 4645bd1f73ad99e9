package scaffold

import (
	_ "embed"
	"strings"
)

// The module's fixed files. variables.tf starts with the four variables
// every service module has (copied from modules-k8s/whoami, so the
// module-pattern contract in internal/specdocs holds for scaffolded modules).
var (
	//go:embed templates/versions.tf
	versionsTF string
	//go:embed templates/variables.tf
	variablesTmpl string
	//go:embed templates/service.yaml
	serviceYAML string
	//go:embed templates/volumes.yaml
	volumesYAML string
	//go:embed templates/externalsecret.yaml
	externalSecretYAML string
)

func (m *model) variablesTF() string {
	return strings.NewReplacer("@@HOST@@", hcl(m.host), "@@ROLE@@", hcl("scaffolded-"+m.svc), "@@VOLUME_SIZE@@", hcl(m.volumeSize)).Replace(variablesTmpl) + m.lsVariablesTF()
}

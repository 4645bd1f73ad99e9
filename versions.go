// Package migratetui holds what the whole repository shares at build time:
// the pinned versions of the test tools (hack/versions.env), embedded so a
// built migrate-tui (the sandbox) needs no checkout to find them.
package migratetui

import _ "embed"

// VersionsEnv is hack/versions.env, the one place versions are recorded.
//
//go:embed hack/versions.env
var VersionsEnv string

// Package archtest holds tests about the module's shape rather than its
// behaviour: which package may import which (layers_test.go).
package archtest

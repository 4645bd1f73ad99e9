// Package tfcode holds the tests of the repository's Terraform: the root
// configuration (main.tf, variables.tf), k8s/ and modules-k8s/. They format
// and validate every module with the pinned OpenTofu, and apply a covering
// set of the wizard's decisions to the real test world (kube-apiserver with
// the CRDs installed), planning again for no changes and destroying to
// nothing.
package tfcode

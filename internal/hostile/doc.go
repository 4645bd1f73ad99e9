// Package hostile holds fuzz targets for inputs whose own packages' tests
// start a test world in TestMain (every fuzz worker would start one): the
// TLS material an operator hands to `migrate-tui tls-secret`. It has no
// code of its own.
package hostile

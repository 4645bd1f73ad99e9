package checks

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
)

var errNoDynamic = errors.New("no Kubernetes client configured")

const hintUnreachable = "The Kubernetes API did not answer: check the kubeconfig's server address and that the API server runs (kubectl get --raw /readyz), then run the check again."

// IsUnreachable reports whether err means the API could not be reached at
// all (refused, reset, timed out), as opposed to an answer from the server.
func IsUnreachable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		// The client turns a dropped connection into a 5xx "the server is
		// currently unable to handle the request"/timeout only when a server
		// answered; those are answers, not unreachability.
		return false
	}
	var nm *meta.NoKindMatchError
	return !errors.As(err, &nm)
}

// apiFail turns an error from reading what into a failed Result that says
// what was being read and what to do next.
func apiFail(what string, err error) Result {
	switch {
	case errors.Is(err, errNoDynamic):
		return fail(fmt.Sprintf("cannot list %s: %v", what, err), "Run the check with a kubeconfig (migrate-tui check --kubeconfig).")
	case IsUnreachable(err):
		return fail(fmt.Sprintf("unreachable: listing %s: %v", what, err), hintUnreachable)
	case apierrors.IsNotFound(err):
		return fail(fmt.Sprintf("listing %s: the resource type is not served by this cluster (%v)", what, err),
			"Install the stage that provides it (CRDs come with their Terraform stage: migrate-tui apply), then run the check again.")
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return fail(fmt.Sprintf("listing %s: access denied (%v)", what, err),
			"The kubeconfig's user may not read this; use the admin kubeconfig the cluster stage wrote.")
	default:
		return fail(fmt.Sprintf("listing %s: %v", what, err), hintUnreachable)
	}
}

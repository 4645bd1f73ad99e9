package vaultsetup

import (
	"github.com/hashicorp/vault/api"

	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A rotated reviewer token is pushed (before, the config was only written
// when host or CA changed); and an auth mount or policy of the same name
// that migrate-tui did not create is refused, unless adopted.
func TestRotatedReviewerAndOwnership(t *testing.T) {
	sim, c, conf := setup(t)
	ctx := context.Background()
	if _, err := Apply(ctx, FromClient(c), world.Client, conf, nil); err != nil {
		t.Fatal(err)
	}
	// Rotate the token in the reviewer Secret.
	secrets := world.Client.CoreV1().Secrets(conf.TokenReviewer.Namespace)
	s, err := secrets.Get(ctx, conf.TokenReviewer.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const rotated = "eyJhbGciOiJSUzI1NiJ9.rotated-token.sig"
	s.Data["token"] = []byte(rotated)
	if _, err := secrets.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	changes, err := Apply(ctx, FromClient(c), world.Client, conf, nil)
	if err != nil || len(changes) != 1 || !strings.HasPrefix(changes[0], "configured auth/kubernetes-k3s/config") {
		t.Fatalf("after rotation: %q %v", changes, err)
	}
	if got := sim.AuthConfig("kubernetes-k3s")["token_reviewer_jwt"]; got != rotated {
		t.Fatal("the rotated reviewer token was not pushed to Vault")
	}
	if changes, _ := Apply(ctx, FromClient(c), world.Client, conf, nil); len(changes) != 0 {
		t.Fatalf("third run: %q", changes)
	}

	// A policy of the same name written by someone else.
	if err := c.Sys().PutPolicy("poc-echo", `path "secret/*" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	_, err = Apply(ctx, FromClient(c), world.Client, conf, nil)
	var oe *OwnershipError
	if !errors.As(err, &oe) || !strings.Contains(err.Error(), "poc-echo") || !strings.Contains(err.Error(), AdoptEnv) {
		t.Fatalf("foreign policy: %v", err)
	}
	if p, _ := sim.Policy("poc-echo"); !strings.Contains(p, "secret/*") {
		t.Fatal("the foreign policy was overwritten")
	}
	conf.Adopt = true
	if _, err := Apply(ctx, FromClient(c), world.Client, conf, nil); err != nil {
		t.Fatalf("adopting: %v", err)
	}
	conf.Adopt = false

	// An auth mount of the same name someone else enabled.
	conf.AuthMount = "kubernetes-other"
	if err := c.Sys().EnableAuthWithOptions("kubernetes-other", &apiEnable); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(ctx, FromClient(c), world.Client, conf, nil); !errors.As(err, &oe) || !strings.Contains(err.Error(), "kubernetes-other/") {
		t.Fatalf("foreign mount: %v", err)
	}
	if cfg := sim.AuthConfig("kubernetes-other"); len(cfg) != 0 {
		t.Fatalf("the foreign mount was configured: %v", cfg)
	}
}

var apiEnable = api.EnableAuthOptions{Type: "kubernetes", Description: "the operator's own"}

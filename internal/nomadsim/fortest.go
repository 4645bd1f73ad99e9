package nomadsim

import (
	"testing"

	"migrate-tui/internal/nomadwatch"
)

// StartT starts a simulator with o on loopback for one test (closed at its
// end) and returns it with a client that holds its token.
func StartT(t testing.TB, o Options) (*Server, *nomadwatch.Client) {
	t.Helper()
	s := New(o)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := nomadwatch.NewClient(s.URL(), s.Token())
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

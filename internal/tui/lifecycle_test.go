package tui

import (
	"context"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"migrate-tui/internal/steps"
)

// closingScreen counts the router's Close calls.
type closingScreen struct {
	tea.Model
	closed *int
}

func (s closingScreen) Close() { *s.closed++ }

func (s closingScreen) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	s.Model, cmd = s.Model.Update(msg)
	return s, cmd
}

// The router closes the screen it leaves (another step opened, the step
// done, the wizard closed), and Common's context is the program's,
// cancelled by App.Close.
func TestRouterClosesScreensAndCancelsTheProgramContext(t *testing.T) {
	program, stop := context.WithCancel(context.Background())
	defer stop()
	closed := map[string]*int{}
	var ctxs []context.Context
	screen := func(c *Common, s steps.Step) tea.Model {
		n := new(int)
		closed[s.ID] = n
		ctxs = append(ctxs, c.Context())
		return closingScreen{Model: newPlaceholder(c, s), closed: n}
	}
	o := Options{RepoDir: t.TempDir(), Context: program,
		Screens: map[steps.Kind]ScreenFactory{steps.KindStage: screen, steps.KindVerify: screen}}
	a := New(o, nil)
	a.openStep("stage.mesh")
	a.openStep("stage.vpa")
	if *closed["stage.mesh"] != 1 || *closed["stage.vpa"] != 0 {
		t.Fatalf("after opening vpa: mesh closed %d times, vpa %d; want 1 and 0", *closed["stage.mesh"], *closed["stage.vpa"])
	}
	// Esc only moves the focus: the screen stays open and is not closed.
	a.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if *closed["stage.vpa"] != 0 {
		t.Fatal("esc closed the screen; it only moves the focus to the list")
	}
	a.Update(StepDoneMsg{StepID: "stage.vpa"}) // reload, open the next unfinished step
	if *closed["stage.vpa"] != 1 {
		t.Fatalf("vpa closed %d times after its step was done, want 1", *closed["stage.vpa"])
	}
	a.openStep("verify.criteria")
	if ctxs[0].Err() != nil {
		t.Fatal("the program context is cancelled before the wizard closed")
	}
	a.Close()
	if *closed["verify.criteria"] != 1 {
		t.Fatalf("the open screen was closed %d times by App.Close, want 1", *closed["verify.criteria"])
	}
	for _, c := range ctxs {
		if c.Err() == nil {
			t.Fatal("App.Close left the commands' context running")
		}
	}
	// The commands' context derives from the program's.
	b := New(o, nil)
	stop()
	if b.c.Context().Err() == nil {
		t.Fatal("Common.Context is not derived from Options.Context")
	}
}

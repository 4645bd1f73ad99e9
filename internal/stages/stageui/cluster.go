package stageui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"migrate-tui/internal/sshinstall"
	"migrate-tui/internal/stages"
	"migrate-tui/internal/status"
)

// ClusterOptions are what the cluster screen is built with.
type ClusterOptions struct {
	// Title and Why head the screen (the wizard's step).
	Title, Why string
	// SSH is how an install reaches the nodes (--ssh-user, --ssh-key,
	// --known-hosts, --k3s-installer-url), as for `apply --stage cluster`.
	SSH stages.SSHOptions
	// Kubeconfig seeds the path asked for when adopting.
	Kubeconfig string
}

// NewCluster is the cluster stage's screen: install K3s over SSH (preflight
// on every node, confirmation, install) or adopt a running cluster from its
// kubeconfig, through the same stages.Cluster as `apply --stage cluster`.
// It sends DoneMsg once the operator continues after a success. ctx bounds
// the install or adoption (the program's context).
func NewCluster(ctx context.Context, cl *stages.Cluster, o ClusterOptions) *ClusterModel {
	in := textinput.New()
	in.Placeholder = "path to a kubeconfig"
	in.SetValue(o.Kubeconfig)
	in.Width = 60
	return &ClusterModel{ctx: ctx, styles: DefaultStyles(), title: o.Title, why: o.Why, ssh: o.SSH, cl: cl, input: in}
}

// sshWho says how an install will log in.
func (m *ClusterModel) sshWho() string {
	who := "as $USER"
	if m.ssh.User != "" {
		who = "as " + m.ssh.User
	}
	if len(m.ssh.KeyFiles) > 0 {
		who += " with " + strings.Join(m.ssh.KeyFiles, ", ")
	} else {
		who += " with the ssh-agent"
	}
	if len(m.ssh.KnownHosts) > 0 {
		return who + " and " + strings.Join(m.ssh.KnownHosts, ", ")
	}
	return who + " and ~/.ssh/known_hosts"
}

// wrapWidth wraps s at width, keeping its newlines.
func wrapWidth(s string, width int) string { return lipgloss.NewStyle().Width(width).Render(s) }

type clusterPhase int

const (
	clusterChoose clusterPhase = iota
	clusterAskPath
	clusterRunning
	clusterConfirm
	clusterFinished
)

type ClusterModel struct {
	ctx    context.Context
	styles Styles
	title  string
	why    string
	ssh    stages.SSHOptions
	cl     *stages.Cluster
	input  textinput.Model
	phase  clusterPhase
	mode   string

	events  chan tea.Msg // from the running install or adoption
	answer  chan bool    // to the install's confirmation
	asked   []sshinstall.CheckResult
	lines   []string
	checks  []stages.CheckResult
	err     error
	width   int
	success bool
}

// Messages from the running stage.
type (
	clusterProgressMsg sshinstall.Step
	clusterAskMsg      []sshinstall.CheckResult
	clusterDoneMsg     struct {
		checks []stages.CheckResult
		nodes  []sshinstall.CheckResult
		err    error
	}
)

func (m *ClusterModel) Init() tea.Cmd { return nil }

func (m *ClusterModel) CapturesEsc() bool { return m.phase == clusterAskPath }

// CapturesCtrlC: an install in progress is not abandoned half way by the wizard quitting.
func (m *ClusterModel) CapturesCtrlC() bool { return m.phase == clusterRunning }

func (m *ClusterModel) Help() string {
	switch m.phase {
	case clusterChoose:
		return "i install over SSH · a adopt a running cluster"
	case clusterAskPath:
		return "enter adopt · esc back"
	case clusterConfirm:
		return "y install · n cancel"
	case clusterFinished:
		if m.success {
			return "enter next"
		}
		return "r try again"
	}
	return "working…"
}

// next waits for the running stage's next message.
func (m *ClusterModel) next() tea.Cmd {
	ch := m.events
	return func() tea.Msg { return <-ch }
}

func (m *ClusterModel) start(run func(ctx context.Context, events chan<- tea.Msg) tea.Msg) tea.Cmd {
	m.phase, m.lines, m.checks, m.err, m.asked = clusterRunning, nil, nil, nil, nil
	m.events = make(chan tea.Msg, 16)
	ch, ctx := m.events, m.ctx
	go func() { ch <- run(ctx, ch) }()
	return m.next()
}

func (m *ClusterModel) adopt(path string) tea.Cmd {
	m.mode = stages.ModeAdopt
	cl := m.cl
	return m.start(func(ctx context.Context, _ chan<- tea.Msg) tea.Msg {
		checks, err := cl.Adopt(ctx, path)
		return clusterDoneMsg{checks: checks, err: err}
	})
}

func (m *ClusterModel) install() tea.Cmd {
	m.mode = stages.ModeInstall
	m.answer = make(chan bool, 1)
	cl, answer, ssh := m.cl, m.answer, m.ssh
	return m.start(func(ctx context.Context, events chan<- tea.Msg) tea.Msg {
		o := ssh.Install(func(s sshinstall.Step) { events <- clusterProgressMsg(s) },
			func(rs []sshinstall.CheckResult) error {
				events <- clusterAskMsg(rs)
				if !<-answer {
					return stages.ErrNotConfirmed
				}
				return nil
			})
		nodes, err := cl.Install(ctx, o)
		return clusterDoneMsg{nodes: nodes, err: err}
	})
}

func (m *ClusterModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width = msg.Width
	case clusterProgressMsg:
		mark := "…"
		if msg.Done {
			mark = status.Pass.Mark()
		}
		m.lines = append(m.lines, fmt.Sprintf("%s %s: %s", mark, msg.Node, msg.What))
		return m, m.next()
	case clusterAskMsg:
		m.phase, m.asked = clusterConfirm, msg
		return m, nil
	case clusterDoneMsg:
		m.phase, m.checks, m.err = clusterFinished, msg.checks, msg.err
		if len(msg.nodes) > 0 && m.asked == nil {
			m.asked = msg.nodes
		}
		m.success = msg.err == nil
		return m, nil
	case tea.KeyMsg:
		return m.key(msg)
	}
	if m.phase == clusterAskPath {
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m *ClusterModel) key(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := msg.String()
	switch m.phase {
	case clusterChoose:
		switch k {
		case "a":
			m.phase = clusterAskPath
			return m, m.input.Focus()
		case "i":
			return m, m.install()
		}
	case clusterAskPath:
		switch k {
		case "esc":
			m.phase = clusterChoose
			m.input.Blur()
			return m, nil
		case "enter":
			if p := strings.TrimSpace(m.input.Value()); p != "" {
				return m, m.adopt(p)
			}
			return m, nil
		}
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return m, cmd
	case clusterConfirm:
		switch k {
		case "y":
			m.phase = clusterRunning
			m.answer <- true
			return m, m.next()
		case "n", "esc":
			m.phase = clusterRunning
			m.answer <- false
			return m, m.next()
		}
	case clusterFinished:
		switch {
		case k == "enter" && m.success:
			return m, func() tea.Msg { return DoneMsg{Stage: stages.ClusterStage.Name, Outcome: stages.Applied} }
		case k == "r" && !m.success:
			m.phase = clusterChoose
			return m, nil
		}
	}
	return m, nil
}

func (m *ClusterModel) View() string {
	s := m.styles
	w := max(m.width, 40)
	var b strings.Builder
	b.WriteString(s.Heading.Render("Stages: "+m.title) + "\n")
	b.WriteString(wrapWidth(m.why, w) + "\n\n")
	switch m.phase {
	case clusterChoose:
		b.WriteString("i  Install K3s on the decided nodes over SSH (" + m.sshWho() + ";\n   preflight on every node first, then you confirm).\n")
		b.WriteString("a  Adopt a running cluster (the sandbox's, or a K3s you already have) from its\n   kubeconfig: nothing is installed.\n")
		b.WriteString("\nEither way Nomad is compared with the preflight baseline before and after.\n")
	case clusterAskPath:
		b.WriteString("Kubeconfig of the cluster to adopt:\n" + m.input.View() + "\n")
	case clusterRunning:
		if m.mode == stages.ModeAdopt {
			b.WriteString("Checking the cluster…\n")
		} else {
			b.WriteString("Installing…\n")
		}
		for _, l := range m.lines {
			b.WriteString("  " + l + "\n")
		}
	case clusterConfirm:
		b.WriteString(nodeChecksView(m.asked))
		b.WriteString("\n" + s.Warn.Render("Install K3s on these nodes now? Nomad keeps running beside it. (y/n)") + "\n")
	case clusterFinished:
		for _, l := range m.lines {
			b.WriteString("  " + l + "\n")
		}
		for _, c := range m.checks {
			b.WriteString(wrapWidth(fmt.Sprintf("%s %s: %s", c.Status.Mark(), c.Title, c.Evidence), w) + "\n")
		}
		var pe *sshinstall.PreflightError
		if errors.As(m.err, &pe) {
			b.WriteString(nodeChecksView(m.asked))
		}
		if m.success {
			b.WriteString("\n" + s.OK.Render(status.Pass.Mark()+" the cluster is ready; kubeconfig_path is in terraform.tfvars") + "\n")
		} else {
			b.WriteString("\n" + s.Bad.Render(status.Fail.Mark()+" the cluster stage did not finish") + "\n" + wrapWidth(m.err.Error(), w) + "\n\nPress r to choose again.\n")
		}
	}
	return b.String()
}

func nodeChecksView(rs []sshinstall.CheckResult) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s %s: %s: %s\n", r.Status.Mark(), r.Node, r.Title, r.Evidence)
	}
	return b.String()
}

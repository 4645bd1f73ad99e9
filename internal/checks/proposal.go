package checks

import (
	"fmt"
	"strings"
)

// Verdicts a Proposal makes.
const (
	Go   = "GO"
	NoGo = "NO-GO"
)

// ProposalRule is the rule Propose applies, said wherever a proposal is shown.
const ProposalRule = "any success criterion that fails proposes NO-GO; otherwise GO. Warnings, skips and criteria that cannot be observed here are listed, never counted as passes. The operator decides."

// Proposal is the go/no-go migrate-tui proposes from the criteria's results;
// the decision itself is the operator's.
type Proposal struct {
	Verdict      string   `json:"verdict"`
	Rule         string   `json:"rule"`
	Failing      []string `json:"failing,omitempty"`
	Warning      []string `json:"warning,omitempty"`
	Skipped      []string `json:"skipped,omitempty"`
	Unobservable []string `json:"unobservable,omitempty"`
}

// Propose applies ProposalRule to rs. Final checks (SC-010: the record of
// the decision itself) are left out: the decision cannot hang on itself.
func Propose(rs []Result) Proposal {
	p := Proposal{Verdict: Go, Rule: ProposalRule}
	for _, r := range rs {
		if c, ok := ByID(r.ID); ok && c.Final {
			continue
		}
		switch r.Status {
		case Fail:
			p.Failing = append(p.Failing, r.ID)
		case Warn:
			p.Warning = append(p.Warning, r.ID)
		case Skip:
			p.Skipped = append(p.Skipped, r.ID)
		case Unobservable:
			p.Unobservable = append(p.Unobservable, r.ID)
		}
	}
	if len(p.Failing) > 0 {
		p.Verdict = NoGo
	}
	return p
}

// Summary is the proposal in one sentence.
func (p Proposal) Summary() string {
	var b strings.Builder
	b.WriteString(p.Verdict)
	if len(p.Failing) > 0 {
		fmt.Fprintf(&b, ": %s failed", strings.Join(p.Failing, ", "))
	} else {
		b.WriteString(": no criterion failed")
	}
	for _, x := range []struct {
		ids  []string
		what string
	}{{p.Warning, "warned"}, {p.Skipped, "skipped"}, {p.Unobservable, "cannot be observed here"}} {
		if len(x.ids) > 0 {
			fmt.Fprintf(&b, "; %s %s", strings.Join(x.ids, ", "), x.what)
		}
	}
	return b.String()
}

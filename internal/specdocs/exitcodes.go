package specdocs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ExitCode is one row of contracts/exit-codes.md.
type ExitCode struct {
	Command string // "preflight", "apply", ...; "migrate-tui" is the wizard
	Code    int
	Meaning string
	InHelp  bool   // the command's --help names this code
	Driven  string // how the test drives it, or "not driven: why"
}

// NotDriven reports whether the row says the test cannot drive it.
func (e ExitCode) NotDriven() bool { return strings.HasPrefix(e.Driven, "not driven") }

// ExitCodes parses the exit-code table: rows whose first cell is a
// backticked command and whose second is a number.
func ExitCodes(doc string) ([]ExitCode, error) {
	var out []ExitCode
	for _, r := range TableRows(doc) {
		m := firstCode.FindStringSubmatch(r[0])
		if m == nil || len(r) < 5 {
			continue
		}
		code, err := strconv.Atoi(r[1])
		if err != nil {
			continue // another table
		}
		var inHelp bool
		switch r[3] {
		case "yes":
			inHelp = true
		case "no":
		default:
			return nil, fmt.Errorf("exit-codes.md: %s %d: the --help column says %q, want yes or no", m[1], code, r[3])
		}
		out = append(out, ExitCode{Command: m[1], Code: code, Meaning: r[2], InHelp: inHelp, Driven: r[4]})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("exit-codes.md has no exit-code rows")
	}
	return out, nil
}

var helpCode = regexp.MustCompile(`(?:^|[\s,])(\d+)\s+[A-Za-z]`)

// HelpCodes returns the exit codes a command's --help names in its
// "Exit codes:" or "Exit status:" paragraph (nil when it has none).
func HelpCodes(help string) []int {
	i := strings.Index(help, "Exit codes:")
	if i < 0 {
		i = strings.Index(help, "Exit status:")
	}
	if i < 0 {
		return nil
	}
	para := help[i:]
	if j := strings.Index(para, "\n\n"); j >= 0 {
		para = para[:j]
	}
	para = para[strings.Index(para, ":")+1:]
	var out []int
	for _, m := range helpCode.FindAllStringSubmatch(para, -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

package specdocs

import (
	"regexp"
	"sort"
	"strings"
)

// TableRows returns the cells of every Markdown table row in doc (header
// and separator rows excluded), trimmed, with \| unescaped.
func TableRows(doc string) [][]string {
	var out [][]string
	for _, line := range strings.Split(doc, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") || !strings.HasSuffix(line, "|") {
			continue
		}
		line = strings.ReplaceAll(line[1:len(line)-1], `\|`, "\x00")
		var cells []string
		for _, c := range strings.Split(line, "|") {
			cells = append(cells, strings.TrimSpace(strings.ReplaceAll(c, "\x00", "|")))
		}
		if strings.Trim(strings.Join(cells, ""), "-: ") == "" {
			continue // the separator row
		}
		out = append(out, cells)
	}
	return out
}

var firstCode = regexp.MustCompile("^`([^`]+)`")

// tableKeys returns the backticked first cells of doc's table rows.
func tableKeys(doc string) map[string]bool {
	out := map[string]bool{}
	for _, r := range TableRows(doc) {
		if m := firstCode.FindStringSubmatch(r[0]); m != nil {
			out[m[1]] = true
		}
	}
	return out
}

var scID = regexp.MustCompile(`\bSC-\d{3}\b`)

// CheckIDs returns the distinct SC-nnn IDs named in doc, sorted.
func CheckIDs(doc string) []string {
	seen := map[string]bool{}
	for _, id := range scID.FindAllString(doc, -1) {
		seen[id] = true
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

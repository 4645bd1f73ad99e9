// Package tfvars reads and updates terraform.tfvars with hclwrite: only the
// keys asked for change; comments, ordering and every other key stay as the
// operator left them. A file that does not parse is never overwritten.
package tfvars

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"migrate-tui/internal/atomicfile"
)

// FileName is the file Terraform reads automatically from the root module.
const FileName = "terraform.tfvars"

// Header starts a terraform.tfvars that migrate-tui creates.
const Header = `# Written by migrate-tui (decisions). Every key is declared in variables.tf.
# Edit by hand if you like: migrate-tui changes only the keys it owns and keeps
# comments, order and any other keys.
`

// ParseError says where a tfvars file stopped parsing.
type ParseError struct {
	Path    string
	Line    int
	Column  int
	Summary string
	Detail  string
}

func (e *ParseError) Error() string {
	msg := fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Summary)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg + ". migrate-tui did not change the file; fix it (or move it aside) and try again"
}

func parseError(path string, diags hcl.Diagnostics) error {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		pe := &ParseError{Path: path, Summary: d.Summary, Detail: d.Detail, Line: 1, Column: 1}
		if d.Subject != nil {
			pe.Line, pe.Column = d.Subject.Start.Line, d.Subject.Start.Column
		}
		return pe
	}
	return nil
}

// Read parses a tfvars file and returns every attribute whose value is a
// constant expression. A missing file is empty. Attributes whose value needs
// evaluation (references, functions) are reported in nonConst.
func Read(path string) (vals map[string]cty.Value, nonConst []string, err error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]cty.Value{}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return Parse(src, path)
}

// Parse is Read on bytes already in memory.
func Parse(src []byte, path string) (vals map[string]cty.Value, nonConst []string, err error) {
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, nil, parseError(path, diags)
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil, nil, fmt.Errorf("%s: not native HCL syntax", path)
	}
	if len(body.Blocks) > 0 {
		b := body.Blocks[0]
		return nil, nil, &ParseError{Path: path, Line: b.TypeRange.Start.Line, Column: b.TypeRange.Start.Column,
			Summary: "Unexpected block", Detail: fmt.Sprintf("a tfvars file holds only KEY = VALUE lines, found a %q block", b.Type)}
	}
	vals = map[string]cty.Value{}
	for name, attr := range body.Attributes {
		v, d := attr.Expr.Value(nil)
		if d.HasErrors() {
			nonConst = append(nonConst, name)
			continue
		}
		vals[name] = v
	}
	return vals, nonConst, nil
}

// Update sets the given keys in the tfvars file at path (creating it with
// Header when missing) and leaves everything else as it was. Keys are
// appended in the order given by order when they are new. The write is
// atomic: a temp file in the same directory, fsync, rename.
func Update(path string, set map[string]cty.Value, order []string) error {
	src, err := os.ReadFile(path)
	mode := os.FileMode(0o644)
	switch {
	case errors.Is(err, os.ErrNotExist):
		src = []byte(Header)
	case err != nil:
		return fmt.Errorf("reading %s: %w", path, err)
	default:
		if st, err := os.Stat(path); err == nil {
			mode = st.Mode().Perm()
		}
	}
	out, err := Render(src, path, set, order)
	if err != nil {
		return err
	}
	if bytes.Equal(out, src) {
		if _, statErr := os.Stat(path); statErr == nil {
			return nil
		}
	}
	return atomicfile.WriteFile(path, out, mode)
}

// Render returns src with the given keys set; see Update. Existing values
// are replaced byte-for-byte in place (so alignment, comments and the
// operator's formatting around them survive); new keys are appended at the
// end, each value rendered by hclwrite.
func Render(src []byte, path string, set map[string]cty.Value, order []string) ([]byte, error) {
	if _, _, err := Parse(src, path); err != nil {
		return nil, err
	}
	f, _ := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	attrs := f.Body.(*hclsyntax.Body).Attributes
	type edit struct {
		start, end int
		text       []byte
	}
	var edits []edit
	var added []string
	for _, k := range orderedKeys(set, order) {
		v := set[k]
		a, ok := attrs[k]
		if !ok {
			added = append(added, k)
			continue
		}
		if cur, d := a.Expr.Value(nil); !d.HasErrors() && sameValue(cur, v) {
			continue // already holds it: leave the operator's formatting alone
		}
		r := a.Expr.Range()
		edits = append(edits, edit{r.Start.Byte, r.End.Byte, exprBytes(k, v)})
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	out := append([]byte(nil), src...)
	for i := len(edits) - 1; i >= 0; i-- { // from the end, so earlier offsets stay valid
		e := edits[i]
		out = append(out[:e.start:e.start], append(append([]byte(nil), e.text...), out[e.end:]...)...)
	}
	if len(added) > 0 {
		if len(out) > 0 && !bytes.HasSuffix(out, []byte("\n")) {
			out = append(out, '\n')
		}
		// A file of comments only (the header) gets a blank line before
		// the first key; otherwise keys follow on. Each key is written on
		// its own, unaligned, so writing keys one screen at a time gives
		// the same bytes as writing them all at once.
		if len(attrs) == 0 && len(bytes.TrimSpace(out)) > 0 && !bytes.HasSuffix(out, []byte("\n\n")) {
			out = append(out, '\n')
		}
		for _, k := range added {
			out = append(out, k...)
			out = append(out, " = "...)
			out = append(out, exprBytes(k, set[k])...)
			out = append(out, '\n')
		}
	}
	if _, _, err := Parse(out, path); err != nil {
		return nil, fmt.Errorf("internal error: the updated %s would not parse (%v); the file was left as it was", path, err)
	}
	return out, nil
}

// sameValue compares a value read from the file with one to write; a list
// written by hand reads back as a tuple, so compare the rendered text.
func sameValue(a, b cty.Value) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	if a.Type().Equals(b.Type()) {
		return a.Equals(b).True()
	}
	return bytes.Equal(hclwrite.TokensForValue(a).Bytes(), hclwrite.TokensForValue(b).Bytes())
}

// exprBytes renders a value as formatted HCL expression text.
func exprBytes(key string, v cty.Value) []byte {
	f := hclwrite.NewEmptyFile()
	f.Body().SetAttributeRaw(key, tokensFor(v))
	_, expr, _ := bytes.Cut(f.Bytes(), []byte("="))
	return bytes.TrimSpace(expr)
}

func orderedKeys(set map[string]cty.Value, order []string) []string {
	var keys []string
	seen := map[string]bool{}
	for _, k := range order {
		if _, ok := set[k]; ok && !seen[k] {
			keys = append(keys, k)
			seen[k] = true
		}
	}
	var rest []string
	for k := range set {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sortStrings(rest)
	return append(keys, rest...)
}

// tokensFor renders a list of objects one element per line, attributes in
// the order variables.tf uses (name first), like the nodes default there.
func tokensFor(v cty.Value) hclwrite.Tokens {
	t := v.Type()
	if !(t.IsListType() || t.IsTupleType()) || v.LengthInt() == 0 {
		return hclwrite.TokensForValue(v)
	}
	objects := true
	for it := v.ElementIterator(); it.Next(); {
		if _, e := it.Element(); !e.Type().IsObjectType() || e.IsNull() {
			objects = false
		}
	}
	if !objects {
		return hclwrite.TokensForValue(v)
	}
	toks := hclwrite.Tokens{tok(hclsyntax.TokenOBrack, "["), nl()}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		toks = append(toks, tok(hclsyntax.TokenOBrace, "{"))
		names := make([]string, 0, len(e.Type().AttributeTypes()))
		for n := range e.Type().AttributeTypes() {
			if n != "name" {
				names = append(names, n)
			}
		}
		sortStrings(names)
		if e.Type().HasAttribute("name") {
			names = append([]string{"name"}, names...)
		}
		for i, n := range names {
			if i > 0 {
				toks = append(toks, tok(hclsyntax.TokenComma, ","))
			}
			toks = append(toks, tok(hclsyntax.TokenIdent, n), tok(hclsyntax.TokenEqual, "="))
			toks = append(toks, hclwrite.TokensForValue(e.GetAttr(n))...)
		}
		toks = append(toks, tok(hclsyntax.TokenCBrace, "}"), tok(hclsyntax.TokenComma, ","), nl())
	}
	return append(toks, tok(hclsyntax.TokenCBrack, "]"))
}

func tok(t hclsyntax.TokenType, s string) *hclwrite.Token {
	return &hclwrite.Token{Type: t, Bytes: []byte(s)}
}

func nl() *hclwrite.Token { return &hclwrite.Token{Type: hclsyntax.TokenNewline, Bytes: []byte("\n")} }

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && strings.Compare(s[j-1], s[j]) > 0; j-- {
			s[j-1], s[j] = s[j], s[j-1]
		}
	}
}

// TypeError: a key in terraform.tfvars holds a value of the wrong type.
type TypeError struct {
	Path string
	Key  string
	Want string
	Got  string
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("%s in %s is a %s, but it must be a %s; fix it (for example with `migrate-tui decide`) and try again", e.Key, e.Path, e.Got, e.Want)
}

// String returns the string value of key, or ok=false when the key is
// absent or null. Any other type is a *TypeError, never a panic.
func String(vals map[string]cty.Value, key, path string) (s string, ok bool, err error) {
	v, present := vals[key]
	if !present || v.IsNull() {
		return "", false, nil
	}
	if !v.IsKnown() || v.Type() != cty.String {
		return "", false, &TypeError{Path: path, Key: key, Want: "string", Got: v.Type().FriendlyName()}
	}
	return v.AsString(), true, nil
}

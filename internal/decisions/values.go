// Package decisions is the one catalogue of every decision migrate-tui asks:
// keys (the variable names in variables.tf), options with their texts,
// recommended defaults with reasons, validation and the cross-checks that
// refuse inconsistent answers. The TUI, `migrate-tui decide`, the tfvars
// writer and research.md all read it from here.
package decisions

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
)

// Type is the Terraform type of a decision's variable.
type Type int

const (
	String     Type = iota // string
	Number                 // number (an integer here)
	StringList             // list(string)
	NodeList               // list(object({name, address, arch, role}))
)

func (t Type) String() string {
	switch t {
	case Number:
		return "number"
	case StringList:
		return "list(string)"
	case NodeList:
		return "list(object)"
	}
	return "string"
}

// Node is one entry of the nodes variable.
type Node struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Arch    string `json:"arch"`
	Role    string `json:"role"`
}

// Answers holds decided values by key. Values are in canonical form:
// string, int64, []string or []Node, as the decision's Type says.
type Answers map[string]any

// Clone copies the map (values are treated as immutable).
func (a Answers) Clone() Answers {
	out := make(Answers, len(a))
	for k, v := range a {
		out[k] = v
	}
	return out
}

// Str returns a string answer ("" when absent or of another type).
func (a Answers) Str(key string) string { s, _ := a[key].(string); return s }

// List returns a list(string) answer.
func (a Answers) List(key string) []string { l, _ := a[key].([]string); return l }

// Nodes returns the nodes answer.
func (a Answers) Nodes() []Node { n, _ := a["nodes"].([]Node); return n }

// Int returns a number answer.
func (a Answers) Int(key string) int64 { n, _ := a[key].(int64); return n }

// Parse reads a value typed by a person (the TUI's inputs, `decide --set`).
// Lists are comma-separated; nodes are name=address/arch/role, comma-separated.
func (d *Decision) Parse(text string) (any, error) {
	text = strings.TrimSpace(text)
	var v any
	switch d.Type {
	case String:
		v = text
	case Number:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a whole number", d.Key, text)
		}
		v = n
	case StringList:
		v = splitList(text)
	case NodeList:
		var nodes []Node
		for _, item := range splitList(text) {
			name, rest, ok := strings.Cut(item, "=")
			parts := strings.Split(rest, "/")
			if !ok || len(parts) != 3 {
				return nil, fmt.Errorf("%s: %q is not name=address/arch/role (e.g. hestia=192.168.1.5/amd64/server)", d.Key, item)
			}
			nodes = append(nodes, Node{Name: strings.TrimSpace(name), Address: strings.TrimSpace(parts[0]), Arch: strings.TrimSpace(parts[1]), Role: strings.TrimSpace(parts[2])})
		}
		if nodes == nil {
			nodes = []Node{}
		}
		v = nodes
	}
	if err := d.Check(v); err != nil {
		return nil, err
	}
	return v, nil
}

func splitList(text string) []string {
	out := []string{}
	for _, p := range strings.Split(text, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Decode reads a value from JSON (the state file, an answers file). A
// string is accepted for every type and parsed as typed text.
func (d *Decision) Decode(raw json.RawMessage) (any, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil && d.Type != String {
		return d.Parse(s)
	}
	var v any
	switch d.Type {
	case String:
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%s: want a string, found %s", d.Key, abbrev(raw))
		}
		v = s
	case Number:
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, fmt.Errorf("%s: want a whole number, found %s", d.Key, abbrev(raw))
		}
		v = n
	case StringList:
		var l []string
		if err := json.Unmarshal(raw, &l); err != nil || l == nil {
			return nil, fmt.Errorf("%s: want a list of strings, found %s", d.Key, abbrev(raw))
		}
		v = l
	case NodeList:
		var nodes []Node
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&nodes); err != nil || nodes == nil {
			return nil, fmt.Errorf("%s: want a list of {name, address, arch, role}, found %s", d.Key, abbrev(raw))
		}
		v = nodes
	}
	if err := d.Check(v); err != nil {
		return nil, err
	}
	return v, nil
}

func abbrev(raw json.RawMessage) string {
	s := string(raw)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// Text renders a value the way Parse reads it.
func (d *Decision) Text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case []string:
		return strings.Join(x, ",")
	case []Node:
		parts := make([]string, len(x))
		for i, n := range x {
			parts[i] = fmt.Sprintf("%s=%s/%s/%s", n.Name, n.Address, n.Arch, n.Role)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// Cty converts a canonical value to the cty value written to terraform.tfvars.
func (d *Decision) Cty(v any) cty.Value {
	switch x := v.(type) {
	case string:
		return cty.StringVal(x)
	case int64:
		return cty.NumberIntVal(x)
	case []string:
		if len(x) == 0 {
			return cty.ListValEmpty(cty.String)
		}
		vals := make([]cty.Value, len(x))
		for i, s := range x {
			vals[i] = cty.StringVal(s)
		}
		return cty.ListVal(vals)
	case []Node:
		if len(x) == 0 {
			return cty.ListValEmpty(cty.Object(map[string]cty.Type{"name": cty.String, "address": cty.String, "arch": cty.String, "role": cty.String}))
		}
		vals := make([]cty.Value, len(x))
		for i, n := range x {
			vals[i] = cty.ObjectVal(map[string]cty.Value{
				"name": cty.StringVal(n.Name), "address": cty.StringVal(n.Address),
				"arch": cty.StringVal(n.Arch), "role": cty.StringVal(n.Role),
			})
		}
		return cty.ListVal(vals)
	}
	return cty.NilVal
}

// FromCty converts a value read from terraform.tfvars back to canonical form.
func (d *Decision) FromCty(v cty.Value) (any, error) {
	if v.IsNull() || !v.IsKnown() {
		return nil, fmt.Errorf("%s: value is null or unknown", d.Key)
	}
	var out any
	switch d.Type {
	case String:
		if v.Type() != cty.String {
			return nil, fmt.Errorf("%s: want a string, found %s", d.Key, v.Type().FriendlyName())
		}
		out = v.AsString()
	case Number:
		if v.Type() != cty.Number {
			return nil, fmt.Errorf("%s: want a number, found %s", d.Key, v.Type().FriendlyName())
		}
		n, acc := v.AsBigFloat().Int64()
		if acc != 0 {
			return nil, fmt.Errorf("%s: want a whole number", d.Key)
		}
		out = n
	case StringList:
		if !v.CanIterateElements() || v.Type().IsObjectType() || v.Type().IsMapType() {
			return nil, fmt.Errorf("%s: want a list of strings, found %s", d.Key, v.Type().FriendlyName())
		}
		l := []string{}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() || e.Type() != cty.String {
				return nil, fmt.Errorf("%s: want a list of strings", d.Key)
			}
			l = append(l, e.AsString())
		}
		out = l
	case NodeList:
		if !v.CanIterateElements() || v.Type().IsObjectType() || v.Type().IsMapType() {
			return nil, fmt.Errorf("%s: want a list of objects, found %s", d.Key, v.Type().FriendlyName())
		}
		nodes := []Node{}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() || !e.Type().IsObjectType() {
				return nil, fmt.Errorf("%s: want a list of objects", d.Key)
			}
			get := func(k string) string {
				if !e.Type().HasAttribute(k) {
					return ""
				}
				a := e.GetAttr(k)
				if a.IsNull() || a.Type() != cty.String {
					return ""
				}
				return a.AsString()
			}
			nodes = append(nodes, Node{Name: get("name"), Address: get("address"), Arch: get("arch"), Role: get("role")})
		}
		out = nodes
	}
	if err := d.Check(out); err != nil {
		return nil, err
	}
	return out, nil
}

// Check validates a canonical value: its type, its options and the same
// rule as the validation block in variables.tf.
func (d *Decision) Check(v any) error {
	switch d.Type {
	case String:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: want a string", d.Key)
		}
		if len(d.Options) > 0 && d.Option(s) == nil {
			return fmt.Errorf("%s: %q is not one of %s", d.Key, s, strings.Join(d.OptionValues(), ", "))
		}
	case Number:
		if _, ok := v.(int64); !ok {
			return fmt.Errorf("%s: want a whole number", d.Key)
		}
	case StringList:
		l, ok := v.([]string)
		if !ok {
			return fmt.Errorf("%s: want a list of strings", d.Key)
		}
		if len(d.Options) > 0 {
			seen := map[string]bool{}
			for _, s := range l {
				if d.Option(s) == nil {
					return fmt.Errorf("%s: %q is not one of %s", d.Key, s, strings.Join(d.OptionValues(), ", "))
				}
				if seen[s] {
					return fmt.Errorf("%s: %q is listed twice", d.Key, s)
				}
				seen[s] = true
			}
		}
	case NodeList:
		if _, ok := v.([]Node); !ok {
			return fmt.Errorf("%s: want a list of nodes", d.Key)
		}
	}
	if d.Validate != nil {
		if err := d.Validate(v); err != nil {
			return fmt.Errorf("%s: %w", d.Key, err)
		}
	}
	return nil
}

// Option returns the option with the given value, or nil.
func (d *Decision) Option(value string) *Option {
	for i := range d.Options {
		if d.Options[i].Value == value {
			return &d.Options[i]
		}
	}
	return nil
}

// OptionValues lists the options' values in catalogue order.
func (d *Decision) OptionValues() []string {
	out := make([]string, len(d.Options))
	for i, o := range d.Options {
		out[i] = o.Value
	}
	return out
}

// Equal compares two canonical values.
func Equal(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// litestreamVersion and vaultKVKey follow variables.tf's validations.
var (
	litestreamVersion = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)?$`)
	vaultKVKey        = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)
)

// ---- validators shared by several decisions ----

var (
	dnsLabel    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dnsName     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$`)
	k3sVersion  = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+\+k3s[0-9]+$`)
	portRange   = regexp.MustCompile(`^[0-9]+-[0-9]+$`)
	reservedRe  = regexp.MustCompile(`^([a-z-]+=[0-9]+[a-zA-Z]*,?)+$`)
	hostPort    = regexp.MustCompile(`^[A-Za-z0-9.-]+:[0-9]+$`)
	hostName    = regexp.MustCompile(`^[A-Za-z0-9.-]+$`)
	mountName   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	bucketName  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	nonEmptyStr = func(v any) error {
		if strings.TrimSpace(v.(string)) == "" {
			return fmt.Errorf("must not be empty")
		}
		return nil
	}
)

func matches(re *regexp.Regexp, example string) func(any) error {
	return func(v any) error {
		if s := v.(string); !re.MatchString(s) {
			return fmt.Errorf("%q does not look like %s", s, example)
		}
		return nil
	}
}

// absolutePathOrEmpty: a file or directory optional setting.
func absolutePathOrEmpty(v any) error {
	if s := v.(string); s != "" {
		return absPath(s)
	}
	return nil
}

// validHTTPURL accepts an http(s) address to a server: scheme, host and
// optional port and path, nothing else. The value goes into YAML manifests
// and into terraform.tfvars and the Terraform state, so whitespace and
// control characters (a newline would end the YAML value and let the rest
// inject objects) and user:password@ (credentials would be stored in
// plain text) are refused.
func validHTTPURL(v any) error {
	s := v.(string)
	if !utf8.ValidString(s) {
		return errors.New("the address is not valid UTF-8")
	}
	shown := strconv.Quote(s)
	if strings.Contains(s, "@") {
		shown = "the address" // may hold a password: never echo it
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("%s contains whitespace or a control character; give the address alone, such as https://vault.service.consul:8200", s)
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%s is not a URL; give it as http(s)://host:port", shown)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%s does not start with http:// or https://", shown)
	case u.User != nil:
		return fmt.Errorf("%q holds credentials (user:password@); they would be written to terraform.tfvars and the Terraform state in plain text. Give the address only; credentials come from Vault", u.Redacted())
	case u.Opaque != "" || u.Hostname() == "":
		return fmt.Errorf("%s names no host; give it as http(s)://host:port", shown)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("%s has a query or fragment; give the address only, as http(s)://host:port", s)
	}
	return nil
}

func validCIDR(v any) error {
	s := v.(string)
	if _, err := netip.ParsePrefix(s); err != nil {
		return fmt.Errorf("%q is not a CIDR such as 10.42.0.0/16", s)
	}
	return nil
}

// absPath accepts an absolute path of printable UTF-8: the value is written
// to terraform.tfvars (HCL strings are UTF-8, so other bytes would not read
// back as written) and into manifests.
func absPath(v any) error {
	s := v.(string)
	if !utf8.ValidString(s) {
		return fmt.Errorf("%q is not valid UTF-8", s)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%q contains a control character", s)
		}
	}
	if !strings.HasPrefix(s, "/") {
		return fmt.Errorf("%q is not an absolute path", s)
	}
	return nil
}

func validPort(v any) error {
	if n := v.(int64); n < 1 || n > 65535 {
		return fmt.Errorf("%d is not a port number (1-65535)", n)
	}
	return nil
}

// PortRange parses LOW-HIGH.
func PortRange(s string) (lo, hi int, err error) {
	if !portRange.MatchString(s) {
		return 0, 0, fmt.Errorf("%q is not LOW-HIGH, e.g. 32001-32767", s)
	}
	a, b, _ := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || lo < 1 || hi > 65535 {
		return 0, 0, fmt.Errorf("%q is not a range of port numbers (1-65535)", s)
	}
	return lo, hi, nil
}

func validNodes(v any) error {
	nodes := v.([]Node)
	if len(nodes) == 0 {
		return fmt.Errorf("at least one node is needed")
	}
	names := map[string]bool{}
	for _, n := range nodes {
		if !dnsLabel.MatchString(n.Name) {
			return fmt.Errorf("node name %q is not a DNS label (lower-case letters, digits, '-')", n.Name)
		}
		if names[n.Name] {
			return fmt.Errorf("node %q is listed twice", n.Name)
		}
		names[n.Name] = true
		if n.Address == "" || !hostName.MatchString(n.Address) {
			return fmt.Errorf("node %s: address %q is not a host name or IP address", n.Name, n.Address)
		}
		if n.Arch != "amd64" && n.Arch != "arm64" {
			return fmt.Errorf("node %s: arch %q is not amd64 or arm64", n.Name, n.Arch)
		}
		if n.Role != "server" && n.Role != "agent" {
			return fmt.Errorf("node %s: role %q is not server or agent", n.Name, n.Role)
		}
	}
	if nodes[0].Role != "server" {
		return fmt.Errorf("the first node (%s) must be a server: it is initialised with cluster-init", nodes[0].Name)
	}
	return nil
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

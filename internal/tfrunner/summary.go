package tfrunner

import (
	"fmt"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// Summary is what a saved plan would do, counted the way Terraform counts
// ("N to add, N to change, N to destroy"; a replacement is one add and one
// destroy).
type Summary struct {
	Add      int                       `json:"add"`
	Change   int                       `json:"change"`
	Destroy  int                       `json:"destroy"`
	ByModule map[string]*ModuleSummary `json:"by_module"`
	// Destroys lists every address the plan deletes or replaces.
	Destroys []string `json:"destroys,omitempty"`
	// Steps is how many resource operations the apply will report, the
	// progress bar's length (a replacement is two).
	Steps int `json:"steps"`
}

// ModuleSummary is the tally of one module ("" is the root module).
type ModuleSummary struct {
	Add     int `json:"add"`
	Change  int `json:"change"`
	Destroy int `json:"destroy"`
}

// HasChanges says whether applying would do anything.
func (s Summary) HasChanges() bool { return s.Add+s.Change+s.Destroy > 0 }

// String is the one-line tally.
func (s Summary) String() string {
	return fmt.Sprintf("%d to add, %d to change, %d to destroy", s.Add, s.Change, s.Destroy)
}

// Modules returns the module addresses in the summary, sorted.
func (s Summary) Modules() []string {
	var ms []string
	for m := range s.ByModule {
		ms = append(ms, m)
	}
	sort.Strings(ms)
	return ms
}

// Summarize counts a plan's resource changes.
func Summarize(p *tfjson.Plan) Summary {
	s := Summary{ByModule: map[string]*ModuleSummary{}}
	if p == nil {
		return s
	}
	for _, rc := range p.ResourceChanges {
		if rc == nil || rc.Change == nil {
			continue
		}
		a := rc.Change.Actions
		var add, chg, del int
		switch {
		case a.Replace():
			add, del = 1, 1
		case a.Create():
			add = 1
		case a.Update():
			chg = 1
		case a.Delete():
			del = 1
		default:
			continue // no-op, read, forget
		}
		m := s.ByModule[rc.ModuleAddress]
		if m == nil {
			m = &ModuleSummary{}
			s.ByModule[rc.ModuleAddress] = m
		}
		m.Add += add
		m.Change += chg
		m.Destroy += del
		s.Add += add
		s.Change += chg
		s.Destroy += del
		s.Steps += add + chg + del
		if del > 0 {
			s.Destroys = append(s.Destroys, rc.Address)
		}
	}
	sort.Strings(s.Destroys)
	return s
}

// StageScopes maps each Terraform-applied stage to the module address
// prefixes it owns (the module blocks of main.tf). A plan for a stage may
// destroy only inside these; this is the one place the mapping lives.
var StageScopes = map[string][]string{
	"storage": {"module.storage"},
	"mesh":    {"module.service_mesh"},
	"vault":   {"module.vault_integration"},
	"vpa":     {"module.vpa"},
	"ingress": {"module.ingress"},
	// module.scaffolded_*: the blocks migrate-tui scaffold writes to
	// services.generated.tf (scaffold.ModulePrefix).
	"services": {"module.poc_namespace", "module.whoami", "module.echo", "module.overseerr", "module.scaffolded_*"},
}

// AnyStage are root addresses any stage may replace: terraform_data records
// of the decisions hold no infrastructure.
var AnyStage = []string{"terraform_data"}

// InScope says whether addr lies inside one of the prefixes. A prefix
// ending in * matches any module whose name starts with the rest.
func InScope(addr string, prefixes []string) bool {
	for _, p := range prefixes {
		if head, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(addr, head) {
				return true
			}
			continue
		}
		if addr == p || strings.HasPrefix(addr, p+".") || strings.HasPrefix(addr, p+"[") {
			return true
		}
	}
	return false
}

// DestroyOutsideError refuses a plan that would destroy resources that do not
// belong to the stage being applied.
type DestroyOutsideError struct {
	Stage     string
	Prefixes  []string
	Addresses []string
}

func (e *DestroyOutsideError) Error() string {
	return fmt.Sprintf("the plan for stage %s would destroy %d resource(s) outside it (%s): %s; nothing was applied. Check terraform.tfvars (enabled_stages and the decisions) and plan again, or apply that change by hand if it is intended",
		e.Stage, len(e.Addresses), strings.Join(e.Prefixes, ", "), strings.Join(e.Addresses, ", "))
}

// CheckScope returns a *DestroyOutsideError when s destroys anything outside
// stage's prefixes. An unknown stage has no scope, so any destroy is refused.
func CheckScope(stage string, s Summary) error {
	prefixes := StageScopes[stage]
	var outside []string
	for _, a := range s.Destroys {
		if !InScope(a, prefixes) && !InScope(a, AnyStage) {
			outside = append(outside, a)
		}
	}
	if len(outside) == 0 {
		return nil
	}
	return &DestroyOutsideError{Stage: stage, Prefixes: prefixes, Addresses: outside}
}

package main

import (
	"fmt"
	"io"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/state"
)

// listedMemory is decide --list's memory estimate for the decisions as they
// stand.
type listedMemory struct {
	Estimate       decisions.MemoryReport          `json:"estimate"`
	Recommendation *decisions.MemoryRecommendation `json:"recommendation,omitempty"`
}

// memoryContext reads the decided answers and preflight's free memory per
// node, without taking the state lock (it only reads). Without a state:
// the defaults, and free memory unknown.
func memoryContext(repo string) (decisions.Answers, decisions.Context) {
	st, err := state.Load(repo)
	if err != nil || st == nil {
		return decisions.Answers{}, decisions.DefaultContext()
	}
	a, _ := st.Answers()
	return a, preflightContext(st)
}

func preflightContext(st *state.State) decisions.Context { return st.DecisionContext() }

// optionMemory is the estimate with key set to value.
func optionMemory(ans decisions.Answers, c decisions.Context, key, value string) *decisions.MemoryReport {
	a := ans.Clone()
	a[key] = value
	r := decisions.EstimateMemory(a, c)
	return &r
}

// warnMemory says, after a decision, when a node would not hold K3s and the
// platform beside Nomad, and what fits instead. It warns; the operator
// may go on (the estimate errs high).
func warnMemory(w io.Writer, ans decisions.Answers, c decisions.Context) {
	r := decisions.EstimateMemory(ans, c)
	if !r.Known || r.Fits {
		return
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "warning: memory: %s\n", p)
	}
	if rec := decisions.RecommendMemory(ans, c); rec != nil {
		fmt.Fprintf(w, "warning: memory: %s\n", rec.Text)
	}
	fmt.Fprintln(w, "warning: memory: the estimate adds up sourced figures and errs high (research.md, Memory estimate); the decision was written")
}

package stages

import (
	"encoding/json"
	"fmt"
	"time"

	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
)

// StateRecorder writes stage results into .migrate-tui/state.json: the
// result under stages[<name>] and the step stage.<name>'s status. The caller
// holds the repository lock (state.Acquire).
type StateRecorder struct {
	RepoDir string
	Now     func() time.Time
}

// RecordStage implements Recorder.
func (r StateRecorder) RecordStage(res Result) error {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	st, err := state.LoadOrNew(r.RepoDir, now())
	if err != nil {
		return err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if st.Stages == nil {
		st.Stages = map[string]json.RawMessage{}
	}
	st.Stages[res.Stage] = b
	id := "stage." + res.Stage
	var evidence []string
	if res.Summary.HasChanges() {
		evidence = append(evidence, "plan: "+res.Summary.String())
	}
	for _, c := range res.Checks {
		evidence = append(evidence, fmt.Sprintf("%s %s: %s", c.Status.Mark(), c.Title, c.Evidence))
	}
	for _, g := range res.Regressions {
		evidence = append(evidence, fmt.Sprintf("Nomad: %s: %s", g.Job, g.What))
	}
	if res.Mode != "" {
		evidence = append(evidence, "cluster "+res.Mode+"ed; kubeconfig: "+res.Kubeconfig)
	}
	if res.LogPath != "" {
		evidence = append(evidence, "log: "+res.LogPath)
	}
	switch res.Outcome {
	case Applied:
		st.Finish(id, steps.Done, evidence, "", now())
	case Skipped:
		st.Finish(id, steps.Skipped, evidence, res.Reason, now())
	case RolledBack:
		st.Reset(id)
	default:
		msg := res.Reason
		if msg == "" {
			msg = string(res.Outcome)
		}
		st.Finish(id, steps.Failed, evidence, string(res.Outcome)+": "+msg, now())
	}
	return state.Save(r.RepoDir, st, now())
}

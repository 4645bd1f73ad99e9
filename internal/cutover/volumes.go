package cutover

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/nomad/api"
	"k8s.io/client-go/kubernetes"
)

// VolumesInput is the volume-path check's input.
type VolumesInput struct {
	Service   string
	Job       *api.Job
	Kube      kubernetes.Interface
	Namespace string
}

// VolumePaths checks every volume_mount destination of the Nomad job's
// tasks is a volumeMount path of the Kubernetes copy (in the container of
// the task's name when there is one): the application finds its data where
// it did on Nomad.
func VolumePaths(ctx context.Context, in VolumesInput) GateCheck {
	c := GateCheck{ID: "data-volumes", Checked: "the Kubernetes copy of " + in.Service + " mounts its volumes at the Nomad job's volume_mount destinations"}
	if in.Job == nil {
		c.Status, c.Found, c.Next = Block, "the Nomad job was not read", "Check NOMAD_ADDR and NOMAD_TOKEN (nomad job inspect "+in.Service+" should answer)."
		return c
	}
	type mount struct{ task, dest, source string }
	var want []mount
	for _, tg := range in.Job.TaskGroups {
		for _, t := range tg.Tasks {
			for _, vm := range t.VolumeMounts {
				src := deref(vm.Volume)
				if v, ok := tg.Volumes[src]; ok && v != nil && v.Source != "" {
					src = v.Source
				}
				want = append(want, mount{t.Name, deref(vm.Destination), src})
			}
		}
	}
	if len(want) == 0 {
		c.Status, c.Found = Pass, "the Nomad job mounts no volume (its data, if any, is on the allocation's disk)"
		return c
	}
	w, found := workloadFor(ctx, in.Kube, in.Namespace, in.Service, &c)
	if !found {
		return c
	}
	spec := w.Template.Spec
	var ok, missing []string
	for _, m := range want {
		var paths []string
		named := false
		for _, ct := range spec.Containers {
			if ct.Name == m.task {
				named = true
			}
		}
		for _, ct := range spec.Containers {
			if named && ct.Name != m.task {
				continue
			}
			for _, vm := range ct.VolumeMounts {
				paths = append(paths, strings.TrimSuffix(vm.MountPath, "/"))
			}
		}
		if slices.Contains(paths, strings.TrimSuffix(m.dest, "/")) {
			ok = append(ok, fmt.Sprintf("%s (%s, task %s)", m.dest, m.source, m.task))
		} else {
			missing = append(missing, fmt.Sprintf("%s (%s, task %s; %s mounts %s)", m.dest, m.source, m.task, w, orNone(paths)))
		}
	}
	if len(missing) > 0 {
		c.Status, c.Found = Block, "not mounted on Kubernetes: "+strings.Join(missing, "; ")
		c.Next = "Mount the same data at the same path in " + w.String() + " (the scaffolded module's volumes; GlusterFS through the host path /storage/v/<volume>), then apply the services stage."
		return c
	}
	c.Status, c.Found = Pass, "mounted at the same paths: "+strings.Join(ok, "; ")
	return c
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "nothing"
	}
	return strings.Join(xs, ", ")
}

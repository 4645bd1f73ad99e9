package checks

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
)

// PodExec runs commands in containers through the API server (kubectl exec).
// KWOK's pods have no processes to run anything in; leave Deps.Exec nil there.
type PodExec struct {
	Config *rest.Config
	Kube   kubernetes.Interface
}

// Exec implements Exec.
func (p PodExec) Exec(ctx context.Context, ns, pod, container string, cmd []string) (string, error) {
	req := p.Kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: cmd, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ex, err := remotecommand.NewSPDYExecutor(p.Config, "POST", req.URL())
	if err != nil {
		return "", err
	}
	var out, errOut bytes.Buffer
	if err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out, Stderr: &errOut}); err != nil {
		return out.String(), fmt.Errorf("%s in %s/%s: %w (%s)", strings.Join(cmd, " "), pod, container, err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

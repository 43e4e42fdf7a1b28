package framework

import (
	"bytes"
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
)

// ExecInput is the input of Exec.
type ExecInput struct {
	Config    *rest.Config
	Clientset kubernetes.Interface
	Pod       *corev1.Pod
	// Container defaults to the pod's first container.
	Container string
	Command   []string
}

// Exec runs a command in a pod's container, as `kubectl exec` does
// (WebSocket, falling back to SPDY), and returns its stdout and stderr. It
// returns an error rather than asserting, so that specs can retry it inside
// Eventually.
func Exec(ctx context.Context, input ExecInput) (stdout, stderr string, err error) {
	if input.Config == nil || input.Clientset == nil || input.Pod == nil || len(input.Command) == 0 {
		return "", "", fmt.Errorf("exec: Config, Clientset, Pod and Command are required")
	}
	container := input.Container
	if container == "" {
		container = input.Pod.Spec.Containers[0].Name
	}
	req := input.Clientset.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(input.Pod.Namespace).Name(input.Pod.Name).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: container,
			Command:   input.Command,
			Stdout:    true,
			Stderr:    true,
		}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(input.Config, "GET", req.URL().String())
	if err != nil {
		return "", "", fmt.Errorf("exec in pod %s/%s: %w", input.Pod.Namespace, input.Pod.Name, err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(input.Config, "POST", req.URL())
	if err != nil {
		return "", "", fmt.Errorf("exec in pod %s/%s: %w", input.Pod.Namespace, input.Pod.Name, err)
	}
	executor, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return "", "", fmt.Errorf("exec in pod %s/%s: %w", input.Pod.Namespace, input.Pod.Name, err)
	}
	var out, errOut bytes.Buffer
	err = executor.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out, Stderr: &errOut})
	if err != nil {
		return out.String(), errOut.String(), fmt.Errorf("exec %q in pod %s/%s: %w (stderr: %s)",
			input.Command, input.Pod.Namespace, input.Pod.Name, err, errOut.String())
	}
	return out.String(), errOut.String(), nil
}

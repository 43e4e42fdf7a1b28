package agent

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/drill-sre/drill/internal/kube"
)

func TestPod(t *testing.T) {
	p, err := Pod(PodInput{Node: "staging-cp-2", Fault: "isolate", Hold: 2 * time.Minute, Margin: time.Minute, Lease: LeaseName("isolate", "staging-cp-2")})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Spec
	if s.NodeName != "staging-cp-2" || !s.HostPID || !s.HostNetwork || s.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("spec %+v: want on the node, host PID and network, never restarted", s)
	}
	if len(s.Tolerations) != 1 || s.Tolerations[0].Operator != corev1.TolerationOpExists || s.Tolerations[0].Key != "" {
		t.Errorf("tolerations %+v: want every taint tolerated", s.Tolerations)
	}
	c := s.Containers[0]
	if c.SecurityContext == nil || c.SecurityContext.Privileged == nil || !*c.SecurityContext.Privileged {
		t.Errorf("container not privileged")
	}
	if c.Resources.Limits.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("no resource limits: %+v", c.Resources)
	}
	if got := strings.Join(c.Args, " "); got != "--fault isolate --hold 2m0s --margin 1m0s --lease-namespace drill-agents --lease isolate-staging-cp-2" {
		t.Errorf("args %q", got)
	}
	if p.Namespace != Namespace || p.Labels[kube.LabelManagedBy] != kube.ManagedBy {
		t.Errorf("pod %s/%s labels %v: want drill's, in %s", p.Namespace, p.Name, p.Labels, Namespace)
	}
	if ns := NamespaceObject(); ns.Labels["pod-security.kubernetes.io/enforce"] != "privileged" || ns.Labels[kube.LabelManagedBy] != kube.ManagedBy {
		t.Errorf("namespace labels %v", ns.Labels)
	}
	for _, bad := range []PodInput{
		{Fault: "isolate", Hold: time.Minute, Lease: "l"},
		{Node: "n", Fault: "reboot", Hold: time.Minute, Lease: "l"},
		{Node: "n", Fault: "services", Lease: "l"},
	} {
		if _, err := Pod(bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	if got := LeaseName("services", "Node_With.Dots"); got != "services-node-with-dots" {
		t.Errorf("lease name %q", got)
	}
}

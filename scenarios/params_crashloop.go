package scenarios

import (
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/drill-sre/drill/internal/guard"
)

// FaultCrashloopPods makes a Deployment's pods crash until they reach
// CrashLoopBackOff, holds them there, and reverts. Params:
// *CrashloopPodsParams.
const FaultCrashloopPods FaultType = "crashloop-pods"

// PodState is a state crashloop-pods drives pods into.
type PodState string

// PodStateCrashLoopBackOff is the kubelet's back-off after repeated crashes,
// as shown in a container's waiting reason.
const PodStateCrashLoopBackOff PodState = "CrashLoopBackOff"

// CrashloopPodsParams are the parameters of crashloop-pods.
type CrashloopPodsParams struct {
	// Deployment whose pods crash. Required. Without Namespace, it must be
	// the drill's workload (its Deployment is named after its fixture).
	Deployment string `yaml:"deployment"`
	// Namespace of an existing Deployment that drill does not create.
	// Optional: by default, the namespace drill creates for the workload.
	Namespace string `yaml:"namespace"`
	// Until is the state the pods must reach before the hold starts.
	// Default CrashLoopBackOff, the only state supported.
	Until PodState `yaml:"until"`
	// HoldFor is how long the pods are kept crashing once they reached
	// Until, before the fault is reverted. Required.
	HoldFor time.Duration `yaml:"holdFor"`
}

// FaultType implements FaultParams.
func (*CrashloopPodsParams) FaultType() FaultType { return FaultCrashloopPods }

// TargetNamespace implements NamespaceTargeter.
func (p *CrashloopPodsParams) TargetNamespace() string { return p.Namespace }

func (*CrashloopPodsParams) actsOn() string { return "acts on fault.params.deployment, not on nodes" }

// needsWorkload: crashloop-pods on a Deployment drill does not create (in
// params.namespace) needs no workload of drill's.
func (*CrashloopPodsParams) needsWorkload(s *Scenario) bool {
	p, ok := s.Fault.Params.(*CrashloopPodsParams)
	return ok && p.Namespace == ""
}

func (p *CrashloopPodsParams) setDefaults(present func(string) bool, path string) {
	if p.Until == "" && !present(join(path, "until")) {
		p.Until = PodStateCrashLoopBackOff
	}
}

func (p *CrashloopPodsParams) validate(v *validator, s *Scenario, path string) {
	deployment := join(path, "deployment")
	if v.required(deployment, p.Deployment, "the name of the Deployment whose pods crash") {
		if errs := validation.IsDNS1123Subdomain(p.Deployment); len(errs) > 0 {
			v.errorf(deployment, "%s is not a Deployment name: %s", quote(p.Deployment), errs[0])
		} else if p.Namespace == "" && s.Workload != nil && s.Workload.Fixture != "" && p.Deployment != string(s.Workload.Fixture) {
			v.errorf(deployment, "%s is not the workload's Deployment %s; set namespace to crash a Deployment drill does not create",
				quote(p.Deployment), quote(string(s.Workload.Fixture)))
		}
	}
	if p.Namespace != "" || v.present(join(path, "namespace")) {
		if v.required(join(path, "namespace"), p.Namespace, "a namespace name, or no namespace for the workload's") {
			if v.dns1123Label(join(path, "namespace"), p.Namespace) && guard.IsSystemNamespace(p.Namespace) {
				v.errorf(join(path, "namespace"), "%s is one of the system's own namespaces: workload faults act only in namespaces drill creates or the cluster's opt-in lists", quote(p.Namespace))
			}
		}
	}
	oneOf(v, join(path, "until"), p.Until, PodStateCrashLoopBackOff)
	hold := v.duration(join(path, "holdFor"), p.HoldFor, true)
	if limit := s.Objectives.MaxDuration; hold && limit > 0 && limit <= p.HoldFor {
		v.errorf("objectives.maxDuration", "%s is not longer than %s %s, which the drill always spends", limit, join(path, "holdFor"), p.HoldFor)
	}
}

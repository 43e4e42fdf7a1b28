package agent

import (
	"context"
	"errors"
	"path"
	"strings"
	"time"

	"github.com/drill-sre/drill/internal/kube"
)

// IsolateChain is the iptables chain Isolate fills; drill owns it.
const IsolateChain = "DRILL-ISOLATE"

// Isolate drops every packet to and from the node but its loopback's, in
// the filter table's INPUT, OUTPUT and FORWARD chains: the closest a
// cluster gets to a machine switched off. Its own chain, jumped to first,
// holds the rules, so that the revert removes exactly what it added.
type Isolate struct{}

var _ Fault = Isolate{}

// Name implements Fault.
func (Isolate) Name() string { return "isolate" }

// Reachable implements Fault: an isolated node is not.
func (Isolate) Reachable() bool { return false }

// isolateHooks are the built-in chains that jump to IsolateChain.
var isolateHooks = []string{"INPUT", "OUTPUT", "FORWARD"}

// Inject implements Fault.
func (Isolate) Inject(ctx context.Context, h Host) error {
	// A chain left by an earlier run is emptied and filled again.
	if _, err := h.Run(ctx, "iptables", "-w", "-N", IsolateChain); err != nil && !exists(err) {
		return err
	}
	for _, args := range [][]string{
		{"-w", "-F", IsolateChain},
		{"-w", "-A", IsolateChain, "-i", "lo", "-j", "RETURN"},
		{"-w", "-A", IsolateChain, "-o", "lo", "-j", "RETURN"},
		{"-w", "-A", IsolateChain, "-j", "DROP"},
	} {
		if _, err := h.Run(ctx, "iptables", args...); err != nil {
			return err
		}
	}
	for _, hook := range isolateHooks {
		// -C: already jumping (a second injection) adds no second jump.
		if _, err := h.Run(ctx, "iptables", "-w", "-C", hook, "-j", IsolateChain); err == nil {
			continue
		}
		if _, err := h.Run(ctx, "iptables", "-w", "-I", hook, "1", "-j", IsolateChain); err != nil {
			return err
		}
	}
	return nil
}

// Revert implements Fault: the jumps deleted (every copy), then the chain.
func (Isolate) Revert(ctx context.Context, h Host) error {
	var errs []error
	for _, hook := range isolateHooks {
		for range 10 {
			if _, err := h.Run(ctx, "iptables", "-w", "-D", hook, "-j", IsolateChain); err != nil {
				break // no (more) jump: done
			}
		}
	}
	if _, err := h.Run(ctx, "iptables", "-w", "-F", IsolateChain); err != nil && !missing(err) {
		errs = append(errs, err)
	}
	if _, err := h.Run(ctx, "iptables", "-w", "-X", IsolateChain); err != nil && !missing(err) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// BackstopScript implements Backstopped: Revert, in shell.
func (Isolate) BackstopScript() string {
	return "for c in " + strings.Join(isolateHooks, " ") + "; do while iptables -w -D $c -j " + IsolateChain + " 2>/dev/null; do :; done; done; " +
		"iptables -w -F " + IsolateChain + " 2>/dev/null; iptables -w -X " + IsolateChain + " 2>/dev/null; true"
}

// exists tells an iptables error saying the chain already exists.
func exists(err error) bool { return strings.Contains(err.Error(), "already exists") }

// missing tells an iptables error saying the chain or rule is not there.
func missing(err error) bool {
	s := err.Error()
	return strings.Contains(s, "No chain/target/match by that name") || strings.Contains(s, "does not exist")
}

// Services stops the node's control plane as a crash of its services
// would: every static pod (the API server, etcd, the controller manager,
// the scheduler) and then the kubelet. Its revert starts the kubelet and
// gives the manifests back, and the kubelet starts the static pods again.
// The node's other containers (kube-proxy, the CNI, the agent itself) keep
// running, as they would when only the services crashed.
type Services struct {
	// ManifestDir is the kubelet's static-pod directory; AsideDir where
	// the manifests wait meanwhile. Defaults: kubeadm's
	// /etc/kubernetes/manifests and /etc/kubernetes/drill-manifests-aside.
	ManifestDir, AsideDir string
	// StopWait bounds the wait for the static pods' containers to stop.
	// Default 2 min.
	StopWait time.Duration
	// Poll is how often that wait looks. Default 2 s.
	Poll time.Duration
}

var _ Fault = Services{}

// Name implements Fault.
func (Services) Name() string { return "services" }

// Reachable implements Fault: the node's network stays up.
func (Services) Reachable() bool { return true }

func (s Services) dirs() (string, string) {
	m, a := s.ManifestDir, s.AsideDir
	if m == "" {
		m = "/etc/kubernetes/manifests"
	}
	if a == "" {
		a = "/etc/kubernetes/drill-manifests-aside"
	}
	return m, a
}

// Inject implements Fault: the manifests moved aside while the kubelet
// runs, so that it stops the static pods; once their containers are gone,
// the kubelet stopped.
func (s Services) Inject(ctx context.Context, h Host) error {
	m, a := s.dirs()
	if _, err := h.Run(ctx, "mkdir", "-p", a); err != nil {
		return err
	}
	if err := moveManifests(ctx, h, m, a); err != nil {
		return err
	}
	if err := s.waitStaticPodsGone(ctx, h); err != nil {
		return err
	}
	_, err := h.Run(ctx, "systemctl", "stop", "kubelet")
	return err
}

// Revert implements Fault: the kubelet started, then the manifests given
// back for it to start the static pods.
func (s Services) Revert(ctx context.Context, h Host) error {
	m, a := s.dirs()
	var errs []error
	if _, err := h.Run(ctx, "systemctl", "start", "kubelet"); err != nil {
		errs = append(errs, err)
	}
	if err := moveManifests(ctx, h, a, m); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// BackstopScript implements Backstopped: Revert, in shell.
func (s Services) BackstopScript() string {
	m, a := s.dirs()
	return "systemctl start kubelet; for f in " + a + "/*.yaml; do [ -e \"$f\" ] && mv -f \"$f\" " + m + "/; done; true"
}

// moveManifests moves every *.yaml of from into to; none there is fine.
func moveManifests(ctx context.Context, h Host, from, to string) error {
	// find prints nothing when there is nothing to move.
	out, err := h.Run(ctx, "find", from, "-maxdepth", "1", "-name", "*.yaml", "-type", "f")
	if err != nil {
		if strings.Contains(err.Error(), "No such file") {
			return nil
		}
		return err
	}
	for _, f := range strings.Fields(out) {
		if _, err := h.Run(ctx, "mv", "-f", f, path.Join(to, path.Base(f))); err != nil {
			return err
		}
	}
	return nil
}

// staticPods are the containers of kubeadm's static pods, by name.
var staticPods = []string{"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler"}

// waitStaticPodsGone waits until no container of a static pod runs.
func (s Services) waitStaticPodsGone(ctx context.Context, h Host) error {
	wait, poll := s.StopWait, s.Poll
	if wait <= 0 {
		wait = 2 * time.Minute
	}
	if poll <= 0 {
		poll = 2 * time.Second
	}
	return kube.Poll(ctx, poll, wait, "the static pods to stop", nil, func(ctx context.Context) (bool, string, error) {
		var running []string
		for _, name := range staticPods {
			out, err := h.Run(ctx, "crictl", "ps", "--quiet", "--state", "running", "--name", "^"+name+"$")
			if err != nil {
				return false, "", err
			}
			if strings.TrimSpace(out) != "" {
				running = append(running, name)
			}
		}
		return len(running) == 0, "still running: " + strings.Join(running, ", "), nil
	})
}

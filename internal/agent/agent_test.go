package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// node is a fake node: its iptables filter table, its files, its kubelet
// and the static pods' containers, changed by the commands a Host runs.
type node struct {
	mu       sync.Mutex
	chains   map[string][]string // chain → rules ("-j X", "-i lo -j RETURN")
	files    map[string]bool     // path → exists
	kubelet  bool
	running  map[string]bool // static pod containers
	commands []string
	// failOn makes the command starting with this text fail.
	failOn string
	// backstop is the script of the armed backstop timer, "" without one.
	backstop string
}

func newNode() *node {
	n := &node{
		chains:  map[string][]string{"INPUT": {"-j KUBE-FIREWALL"}, "OUTPUT": {}, "FORWARD": {}},
		files:   map[string]bool{},
		kubelet: true,
		running: map[string]bool{},
	}
	for _, p := range staticPods {
		n.files["/etc/kubernetes/manifests/"+p+".yaml"] = true
		n.running[p] = true
	}
	return n
}

// sync is the kubelet: it runs the static pods whose manifests are there
// and stops the others, while it runs.
func (n *node) sync() {
	if !n.kubelet {
		return
	}
	for _, p := range staticPods {
		n.running[p] = n.files["/etc/kubernetes/manifests/"+p+".yaml"]
	}
}

func (n *node) Run(_ context.Context, name string, args ...string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	cmd := strings.Join(append([]string{name}, args...), " ")
	n.commands = append(n.commands, cmd)
	if n.failOn != "" && strings.HasPrefix(cmd, n.failOn) {
		return "", fmt.Errorf("%s: exit status 1", cmd)
	}
	defer n.sync()
	switch name {
	case "iptables":
		return n.iptables(args[1:]) // after -w
	case "mkdir":
		return "", nil
	case "find":
		var out []string
		for _, f := range slices.Sorted(maps.Keys(n.files)) {
			if n.files[f] && path.Dir(f) == args[0] && strings.HasSuffix(f, ".yaml") {
				out = append(out, f)
			}
		}
		return strings.Join(out, "\n"), nil
	case "mv":
		from, to := args[1], args[2]
		if !n.files[from] {
			return "", fmt.Errorf("mv: cannot stat %s: No such file", from)
		}
		delete(n.files, from)
		n.files[to] = true
		return "", nil
	case "systemctl":
		switch {
		case args[len(args)-1] == "kubelet":
			n.kubelet = args[0] == "start"
		case args[0] == "stop" && strings.HasPrefix(args[1], "drill-backstop-"):
			n.backstop = ""
		}
		return "", nil
	case "systemd-run":
		n.backstop = args[len(args)-1]
		return "", nil
	case "crictl":
		want := strings.Trim(args[len(args)-1], "^$")
		if n.running[want] {
			return "0123abcd\n", nil
		}
		return "", nil
	}
	return "", fmt.Errorf("unknown command %s", cmd)
}

func (n *node) iptables(a []string) (string, error) {
	op, chain := a[0], a[1]
	rule := strings.Join(a[2:], " ")
	rules, ok := n.chains[chain]
	switch op {
	case "-N":
		if ok {
			return "", errors.New("iptables: Chain already exists.")
		}
		n.chains[chain] = []string{}
	case "-F":
		if !ok {
			return "", errors.New("iptables: No chain/target/match by that name.")
		}
		n.chains[chain] = []string{}
	case "-X":
		if !ok {
			return "", errors.New("iptables: No chain/target/match by that name.")
		}
		delete(n.chains, chain)
	case "-A":
		n.chains[chain] = append(rules, rule)
	case "-I":
		rule = strings.Join(a[3:], " ") // after the position
		n.chains[chain] = append([]string{rule}, rules...)
	case "-C", "-D":
		i := slices.Index(rules, rule)
		if i < 0 {
			return "", errors.New("iptables: Bad rule (does a matching rule exist in that chain?).")
		}
		if op == "-D" {
			n.chains[chain] = slices.Delete(rules, i, i+1)
		}
	}
	return "", nil
}

// isolated says whether every hook jumps to the isolating chain, which
// drops everything but loopback.
func (n *node) isolated() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, h := range isolateHooks {
		if !slices.Contains(n.chains[h], "-j "+IsolateChain) {
			return false
		}
	}
	return slices.Equal(n.chains[IsolateChain], []string{"-i lo -j RETURN", "-o lo -j RETURN", "-j DROP"})
}

// pristine says whether the table is as newNode made it.
func (n *node) pristine() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.chains) == 3 && slices.Equal(n.chains["INPUT"], []string{"-j KUBE-FIREWALL"}) &&
		len(n.chains["OUTPUT"]) == 0 && len(n.chains["FORWARD"]) == 0
}

func TestIsolate(t *testing.T) {
	ctx := context.Background()
	n := newNode()
	if err := (Isolate{}).Inject(ctx, n); err != nil {
		t.Fatal(err)
	}
	if !n.isolated() {
		t.Fatalf("not isolated: %v", n.chains)
	}
	// A second injection (after a crash) adds nothing twice.
	if err := (Isolate{}).Inject(ctx, n); err != nil {
		t.Fatal(err)
	}
	if got := n.chains["INPUT"]; !slices.Equal(got, []string{"-j " + IsolateChain, "-j KUBE-FIREWALL"}) {
		t.Errorf("INPUT after two injections: %v, want one jump first", got)
	}
	for range 2 { // idempotent
		if err := (Isolate{}).Revert(ctx, n); err != nil {
			t.Fatal(err)
		}
		if !n.pristine() {
			t.Fatalf("after the revert: %v", n.chains)
		}
	}
}

func TestServices(t *testing.T) {
	ctx := context.Background()
	n := newNode()
	s := Services{Poll: time.Millisecond}
	if err := s.Inject(ctx, n); err != nil {
		t.Fatal(err)
	}
	if n.kubelet || slices.ContainsFunc(staticPods, func(p string) bool { return n.running[p] }) {
		t.Fatalf("kubelet %v, running %v: want everything stopped", n.kubelet, n.running)
	}
	// The manifests went aside before the kubelet stopped, or it would not
	// have stopped the static pods.
	mv := slices.IndexFunc(n.commands, func(c string) bool { return strings.HasPrefix(c, "mv ") })
	stop := slices.Index(n.commands, "systemctl stop kubelet")
	if mv < 0 || stop < mv {
		t.Errorf("commands %q: want the manifests moved before the kubelet stops", n.commands)
	}
	for range 2 {
		if err := s.Revert(ctx, n); err != nil {
			t.Fatal(err)
		}
		if !n.kubelet || slices.ContainsFunc(staticPods, func(p string) bool { return !n.running[p] }) {
			t.Fatalf("after the revert: kubelet %v, running %v", n.kubelet, n.running)
		}
	}
}

// control is a fake Lease: the harness renews it until stop, and asks for
// the revert at ask (zero: never).
type control struct {
	mu      sync.Mutex
	renewed time.Time
	ask     bool
	states  []string
	readErr error
}

func (c *control) Read(context.Context) (time.Time, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.renewed, c.ask, c.readErr
}

func (c *control) Report(_ context.Context, s string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.states = append(c.states, s)
	return nil
}

func (c *control) renew() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.renewed = time.Now()
}

// renewing plays a harness that renews the lease every 2 s, n times, then
// asks for the revert if ask, or else stops: it is gone.
func renewing(n int, ask bool) func(context.Context, *control) {
	return func(_ context.Context, c *control) {
		for range n {
			c.renew()
			time.Sleep(2 * time.Second)
		}
		if ask {
			c.mu.Lock()
			c.ask = true
			c.mu.Unlock()
		}
	}
}

func TestRun(t *testing.T) {
	plan := Plan{Hold: time.Minute, Margin: 30 * time.Second, Poll: 2 * time.Second}
	for _, tc := range []struct {
		name string
		// harness plays the harness's part while the fault is on.
		harness    func(ctx context.Context, c *control)
		fault      Fault
		wantReason string
		// wantAfter is how long after the injection the revert comes.
		wantAfter time.Duration
	}{{
		name:    "asked after 40 s",
		harness: renewing(20, true),
		fault:   Services{Poll: time.Second}, wantReason: ReasonAsked, wantAfter: 40 * time.Second,
	}, {
		name:    "harness gone after 10 s: hold and margin from its last renewal",
		harness: renewing(5, false),
		fault:   Services{Poll: time.Second}, wantReason: ReasonDeadMan, wantAfter: 8*time.Second + 90*time.Second,
	}, {
		name:    "a harness alive past the hold keeps the fault on until it asks",
		harness: renewing(150, true),
		fault:   Services{Poll: time.Second}, wantReason: ReasonAsked, wantAfter: 300 * time.Second,
	}, {
		name:       "isolated: the hold ends on the agent's clock, whatever the lease says",
		harness:    renewing(0, false),
		fault:      Isolate{},
		wantReason: ReasonHoldEnd, wantAfter: time.Minute,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := newNode()
				c := &control{renewed: time.Now()}
				go tc.harness(t.Context(), c)
				start := time.Now()
				out, err := Run(t.Context(), n, tc.fault, c, plan)
				if err != nil {
					t.Fatal(err)
				}
				if out.Reason != tc.wantReason {
					t.Errorf("reason %q, want %q", out.Reason, tc.wantReason)
				}
				// Within one poll of when it is due.
				if got := out.Reverted.Sub(start); got < tc.wantAfter || got > tc.wantAfter+plan.Poll+time.Second {
					t.Errorf("reverted %s after the injection, want %s", got, tc.wantAfter)
				}
				if !n.pristine() || !n.kubelet || !n.running["etcd"] {
					t.Errorf("the node after the revert: %v, kubelet %v, running %v", n.chains, n.kubelet, n.running)
				}
				c.mu.Lock()
				defer c.mu.Unlock()
				if len(c.states) != 3 || !strings.HasPrefix(c.states[0], "injecting") || !strings.HasPrefix(c.states[1], "injected") || c.states[2] != "reverted: "+tc.wantReason {
					t.Errorf("states reported %q", c.states)
				}
			})
		})
	}
}

// A lease that cannot be read is a harness that does not renew it.
func TestRunLeaseUnreadable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &control{renewed: time.Now(), readErr: errors.New("connection refused")}
		start := time.Now()
		out, err := Run(t.Context(), newNode(), Services{Poll: time.Second}, c, Plan{Hold: time.Minute, Margin: 30 * time.Second})
		if err != nil || out.Reason != ReasonDeadMan || out.Reverted.Sub(start) > 95*time.Second {
			t.Errorf("outcome %+v, %v: want the dead-man's switch after 90 s", out, err)
		}
	})
}

// Stopping the agent reverts; a failed injection is reverted and said.
func TestRunStoppedAndFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		n := newNode()
		c := &control{renewed: time.Now()}
		go func() { time.Sleep(10 * time.Second); cancel() }()
		out, err := Run(ctx, n, Isolate{}, c, Plan{Hold: time.Hour})
		if err != nil || out.Reason != ReasonStopped || !n.pristine() {
			t.Errorf("stopped: %+v, %v, table %v", out, err, n.chains)
		}
	})
	n := newNode()
	n.failOn = "iptables -w -I FORWARD"
	c := &control{renewed: time.Now()}
	out, err := Run(context.Background(), n, Isolate{}, c, Plan{Hold: time.Hour})
	if err == nil || !strings.Contains(err.Error(), "inject isolate") || out.Reason != ReasonInjectKO {
		t.Errorf("failed injection: %+v, %v", out, err)
	}
	n.failOn = ""
	if !n.pristine() {
		t.Errorf("after a failed injection the table is %v, want it as it was", n.chains)
	}
}

// Main refuses what it cannot run, before touching the node.
func TestMainRefuses(t *testing.T) {
	for _, args := range [][]string{
		{"--fault", "reboot", "--hold", "1m", "--lease-namespace", "n", "--lease", "l"},
		{"--fault", "isolate", "--lease-namespace", "n", "--lease", "l"},
		{"--fault", "isolate", "--hold", "1m"},
		{"--nope"},
	} {
		var stderr strings.Builder
		if code := Main(args, &stderr); code != 2 || stderr.Len() == 0 {
			t.Errorf("%q: exit %d, %q: want 2 and why", args, code, stderr.String())
		}
	}
}

// An agent started only to revert puts back what a gone one left: the
// kubelet stopped and the manifests aside, and says so.
func TestRevertOnly(t *testing.T) {
	ctx := context.Background()
	n := newNode()
	s := Services{Poll: time.Millisecond}
	if err := s.Inject(ctx, n); err != nil {
		t.Fatal(err)
	}
	c := &control{}
	if err := RevertOnly(ctx, n, s, c); err != nil {
		t.Fatal(err)
	}
	if !n.kubelet || slices.ContainsFunc(staticPods, func(p string) bool { return !n.running[p] }) {
		t.Errorf("after the restoring agent: kubelet %v, running %v", n.kubelet, n.running)
	}
	if !slices.Equal(c.states, []string{"reverted: " + ReasonRestore}) {
		t.Errorf("states %q", c.states)
	}
	in := PodInput{Node: "cp1", Fault: "services", Hold: time.Minute, Lease: "services-cp1", RevertOnly: true}
	pod, err := Pod(in)
	if err != nil || !slices.Contains(pod.Spec.Containers[0].Args, "--revert-only") {
		t.Errorf("restoring agent's pod: %v, %v", pod, err)
	}
}

// With a backstop, a timer in the node's systemd that reverts the fault is
// armed before the injection and disarmed once the agent reverted; its
// script undoes what the fault did.
func TestBackstop(t *testing.T) {
	for _, tt := range []struct {
		f    Fault
		want []string
	}{
		{Isolate{}, []string{"iptables -w -D $c -j DRILL-ISOLATE", "iptables -w -X DRILL-ISOLATE", "for c in INPUT OUTPUT FORWARD"}},
		{Services{Poll: time.Millisecond}, []string{"systemctl start kubelet", "mv -f \"$f\" /etc/kubernetes/manifests/", "/etc/kubernetes/drill-manifests-aside/*.yaml"}},
	} {
		t.Run(tt.f.Name(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := newNode()
				c := &control{}
				c.renew()
				armed := ""
				go func() {
					for {
						time.Sleep(100 * time.Millisecond)
						n.mu.Lock()
						b := n.backstop
						n.mu.Unlock()
						if b != "" {
							armed = b
							c.mu.Lock()
							c.ask = true
							c.mu.Unlock()
							return
						}
					}
				}()
				out, err := Run(t.Context(), n, tt.f, c, Plan{Hold: time.Minute, Margin: time.Minute, Poll: time.Second, Backstop: 3 * time.Minute})
				if err != nil {
					t.Fatal(err)
				}
				if !tt.f.Reachable() && out.Reason != ReasonHoldEnd || tt.f.Reachable() && out.Reason != ReasonAsked {
					t.Errorf("reason %q", out.Reason)
				}
				for _, w := range tt.want {
					if !strings.Contains(armed, w) {
						t.Errorf("backstop script %q lacks %q", armed, w)
					}
				}
				arm := slices.IndexFunc(n.commands, func(c string) bool { return strings.HasPrefix(c, "systemd-run --unit drill-backstop-"+tt.f.Name()) })
				first := slices.IndexFunc(n.commands, func(c string) bool { return strings.HasPrefix(c, "iptables") || strings.HasPrefix(c, "mv ") })
				if arm < 0 || first < arm {
					t.Errorf("commands %q: want the backstop armed before the fault", n.commands)
				}
				if !strings.Contains(n.commands[arm], "--on-active=180s") {
					t.Errorf("backstop %q, want it in 180 s", n.commands[arm])
				}
				if n.backstop != "" {
					t.Errorf("backstop still armed after the revert")
				}
			})
		})
	}
}

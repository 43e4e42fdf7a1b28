// Command agent-try puts one node fault on a node through drill's agent and
// takes it off, printing what it sees: a manual check of internal/agent on
// a real cluster.
//
//	go run ./hack/agent-try -kubeconfig _output/kubeconfig -node drill-worker3 -fault isolate -hold 40s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/drill-sre/drill/internal/agent"
)

func main() {
	kc := flag.String("kubeconfig", "_output/kubeconfig", "")
	node := flag.String("node", "drill-worker3", "")
	fault := flag.String("fault", "isolate", "isolate or services")
	hold := flag.Duration("hold", 40*time.Second, "")
	die := flag.Bool("die", false, "stop renewing the lease after injecting (the harness dies)")
	flag.Parse()
	cfg, err := clientcmd.BuildConfigFromFlags("", *kc)
	if err != nil {
		panic(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	start := time.Now()
	say := func(f string, a ...any) {
		fmt.Printf("%6.1fs "+f+"\n", append([]any{time.Since(start).Seconds()}, a...)...)
	}
	in := agent.PodInput{Node: *node, Fault: *fault, Hold: *hold, Margin: 20 * time.Second, Lease: agent.LeaseName(*fault, *node)}
	h, err := agent.Start(ctx, cs, in, 2*time.Minute)
	if err != nil {
		say("start: %v", err)
		os.Exit(1)
	}
	say("injected")
	rctx, stop := context.WithCancel(ctx)
	if !*die {
		go h.Renew(rctx, 5*time.Second)
	}
	ready := func() string {
		n, err := cs.CoreV1().Nodes().Get(ctx, *node, metav1.GetOptions{})
		if err != nil {
			return "?" + err.Error()
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return string(c.Status)
			}
		}
		return "?"
	}
	deadline := time.Now().Add(*hold + 2*time.Minute)
	for time.Now().Before(deadline) {
		le, err := cs.CoordinationV1().Leases(agent.Namespace).Get(ctx, in.Lease, metav1.GetOptions{})
		state := "?"
		if err == nil {
			state = le.Annotations[agent.AnnotationState]
		}
		say("node Ready=%s, agent: %s", ready(), state)
		if *fault == "services" && !*die && time.Since(start) > *hold {
			break
		}
		if len(state) >= 8 && state[:8] == "reverted" {
			break
		}
		time.Sleep(5 * time.Second)
	}
	stop()
	st, err := h.Revert(ctx, 2*time.Minute)
	say("revert: %q %v", st, err)
	for i := 0; i < 30 && ready() != "True"; i++ {
		time.Sleep(2 * time.Second)
	}
	say("node Ready=%s", ready())
	if err := h.Remove(ctx); err != nil {
		say("remove: %v", err)
	}
}

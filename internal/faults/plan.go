package faults

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/scenarios"
)

// Planner is a fault that can say, without doing it, what it would act on,
// what it would create or change and how it would revert: a dry run. Every
// registered fault implements it (a test checks).
//
// Plan only reads the cluster: no create, update, patch or delete, no
// command run on a node that changes anything, no machine stopped, no image
// loaded. It resolves the target the way Target does, from the same code.
// In a dry run (Env.DryRun) the drill's namespace and workload do not exist
// yet: Plan describes the ones drill would create instead of failing.
type Planner interface {
	Plan(ctx context.Context) (Plan, error)
}

// Plan is what a fault would do.
type Plan struct {
	// Target is what the fault would act on, resolved: which node, etcd
	// member, pods, namespace.
	Target string `json:"target"`
	// Changes are what the fault would create or change, in order.
	Changes []string `json:"changes"`
	// Revert is what its revert would do, in order.
	Revert []string `json:"revert"`
}

// PlanOf builds the fault sc declares for a dry run (env.DryRun set) and
// plans it. The fault it builds cannot be injected: its Target, Inject and
// Revert refuse.
func PlanOf(ctx context.Context, env Env, sc *scenarios.Scenario) (Plan, error) {
	env.DryRun = true
	f, err := New(env, sc)
	if err != nil {
		return Plan{}, err
	}
	return f.(Planner).Plan(ctx) // New built a dryRunOnly
}

// dryRunOnly is a fault built for a dry run: it plans, and refuses to act.
type dryRunOnly struct{ Planner }

var errDryRun = errors.New("a fault built for a dry run does not act")

func (dryRunOnly) Target(context.Context) (string, error) { return "", errDryRun }
func (dryRunOnly) Inject(context.Context) error           { return errDryRun }
func (dryRunOnly) Revert(context.Context) error           { return errDryRun }

// The namespace and workload of a drill in a dry run, which drill would
// create: faults describe them by these.
const (
	// DryRunNamespace stands for the namespace drill would create for the
	// drill, named drill-<drill name>-<random suffix>.
	DryRunNamespace = "drill-<drill>-<random>"
)

// workloadNamespace is the namespace of the drill's workload: the one it
// deployed, or in a dry run the one it would create.
func (e Env) workloadNamespace() string {
	if e.Namespace == "" && e.DryRun {
		return DryRunNamespace
	}
	return e.Namespace
}

// drillNamespace is the drill's own namespace, or in a dry run the one
// drill would create.
func (e Env) drillNamespace() string {
	if e.DrillNamespace == "" && e.DryRun {
		return DryRunNamespace
	}
	return e.DrillNamespace
}

// plannedWorkload describes the workload a drill declares and, in a dry
// run, has not deployed yet.
func plannedWorkload(sc *scenarios.Scenario) string {
	if sc.Workload == nil {
		return "no workload"
	}
	pods := fmt.Sprintf("the %d pods", sc.Workload.Replicas)
	if sc.Workload.Replicas == 1 {
		pods = "the pod"
	}
	w := fmt.Sprintf("%s of Deployment probe-app in namespace %s, which drill would create", pods, DryRunNamespace)
	if sc.Workload.Persistent {
		w += ", with its PersistentVolumeClaim"
	}
	return w
}

// etcdView is what faults read of etcd to choose their target: its members
// and the name of its leader.
type etcdView struct {
	members []*etcdserverpb.Member
	leader  string
}

// readEtcd reads etcd's members and leader (read-only: a member list and
// each member's status). Tests set Env.etcdView instead.
func (e Env) readEtcd(ctx context.Context) (etcdView, error) {
	if e.etcdView != nil {
		return e.etcdView(ctx)
	}
	resp, err := e.Etcd.MemberList(ctx)
	if err != nil {
		return etcdView{}, fmt.Errorf("etcd member list: %w", err)
	}
	leader, err := monitor.EtcdLeader(e.Etcd)(ctx)
	if err != nil {
		return etcdView{}, fmt.Errorf("find the etcd leader: %w", err)
	}
	return etcdView{members: resp.Members, leader: leader}, nil
}

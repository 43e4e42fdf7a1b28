package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/kind/pkg/log"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/drill-sre/drill/internal/alerts"
	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/drill"
	"github.com/drill-sre/drill/internal/faults"
	"github.com/drill-sre/drill/internal/guard"
	"github.com/drill-sre/drill/internal/journal"
	"github.com/drill-sre/drill/internal/preflight"
	"github.com/drill-sre/drill/internal/probeapp"
	"github.com/drill-sre/drill/internal/rbac"
	"github.com/drill-sre/drill/internal/recovery"
	"github.com/drill-sre/drill/internal/timing"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

// RunScenarioInput is the input of RunScenario.
type RunScenarioInput struct {
	Provider   cluster.Provider
	RESTConfig *rest.Config
	Clientset  kubernetes.Interface
	Scenario   *scenarios.Scenario
	// ReportDir receives the drill's report (reports.WriteDrill); "" writes
	// none.
	ReportDir string
	Logger    log.Logger
	// Monitoring says where the drill reads alerts; nil reads it from the
	// environment (MonitoringFromEnv). It is used when the drill declares
	// alerts objectives, or when an earlier drill of this process set
	// monitoring up: then every drill records what fired.
	Monitoring *MonitoringConfig
	// Register and Injected are passed to drill.Run (see drill.Options).
	Register func(revert func(context.Context) error)
	Injected func()
	// JournalDir keeps the fault's journal on this machine; "" is
	// recovery.DefaultJournalDir.
	JournalDir string
	// PreflightWait is how long the drill waits for the cluster to be
	// whole before it refuses to run. Default 3m.
	PreflightWait time.Duration
	// Access asks the API server whether the user drill runs as holds the
	// rules the drill needs (the preflight's access check). A run of drills
	// shares one, which asks again only what was denied; nil makes one for
	// the drill.
	Access *rbac.Reviewer
}

// RunScenario runs one drill end to end: a namespace for it, its workload
// deployed and available, the drill itself (samplers, fault, revert,
// objectives), the report written, and the namespace deleted. It returns the
// drill's report; an error means the drill could not be set up or its
// report not written, while the drill's own outcome is in the report.
func RunScenario(ctx context.Context, input RunScenarioInput) (reports.Drill, error) {
	sc := input.Scenario
	if input.Provider == nil || input.RESTConfig == nil || input.Clientset == nil || sc == nil {
		return reports.Drill{}, fmt.Errorf("RunScenario: Provider, RESTConfig, Clientset and Scenario are required")
	}
	logger := input.Logger
	if logger == nil {
		logger = log.NoopLogger{}
	}
	cs := input.Clientset
	if input.ReportDir != "" {
		// The journal keeps it: drill recover may run from elsewhere.
		if abs, err := filepath.Abs(input.ReportDir); err == nil {
			input.ReportDir = abs
		}
	}
	// Where the drill's time goes, from here to its judging (package
	// timing); the engine adds its own phases.
	rec := timing.NewRecorder()
	ctx = timing.WithRecorder(ctx, rec)
	endSetup := rec.Start("harness", timing.Harness)
	if stopped, why := GameDayStopped(input.ReportDir); stopped {
		return notInjected(input.ReportDir, sc, notRun+why)
	}
	// The guard, before anything is written: the cluster opted in, and a
	// workload fault targets a namespace drill may act in.
	if why := guardDrill(ctx, cs, sc); why != "" {
		logger.Warnf("drill %s: %s", sc.Name, why)
		return notInjected(input.ReportDir, sc, why)
	}
	// The access the drill needs, before anything is written too: a user
	// bound to too little learns which rule is missing, not which write
	// failed half-way. The preflight lists it again, from what was asked.
	if input.Access == nil {
		r, err := rbac.NewReviewerFor(input.RESTConfig)
		if err != nil {
			return reports.Drill{}, err
		}
		input.Access = r
	}
	if c := preflight.RunAccess(ctx, accessOf(input)); c.Status == preflight.StatusFailed {
		why := noAccess + c.Detail
		logger.Warnf("drill %s: %s", sc.Name, why)
		return notInjected(input.ReportDir, sc, why, reports.Check{Name: c.Name, Status: string(c.Status), Detail: c.Detail})
	}
	// A new cluster's CoreDNS may still be rolling out its spread (drill
	// cluster up does not wait for it): a drill starts on the cluster DNS
	// it will have throughout.
	endDNS := rec.Start("cluster DNS rollout", timing.Cluster)
	if waited, err := cluster.AwaitCoreDNS(ctx, cs, 3*time.Minute); err != nil {
		logger.Warnf("drill %s: %v; the preflight judges whether the cluster is whole", sc.Name, err)
	} else if waited {
		logger.V(0).Infof("drill %s: waited for CoreDNS's spread over the zones to roll out", sc.Name)
	}
	endDNS()
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: "drill-" + sc.Name + "-",
		Labels:       map[string]string{guard.LabelManagedBy: guard.ManagedBy, "drill.sre/drill": sc.Name},
	}}, metav1.CreateOptions{})
	if err != nil {
		return reports.Drill{}, fmt.Errorf("create the namespace of drill %s: %w", sc.Name, err)
	}
	defer func() {
		// The revert has run by now: the namespace holds nothing the
		// cluster needs.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if err := cs.CoreV1().Namespaces().Delete(dctx, ns.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			logger.Warnf("delete namespace %s: %v", ns.Name, err)
		}
	}()

	env := drill.Env{
		Provider: input.Provider, RESTConfig: input.RESTConfig, Clientset: cs,
		RecordsNamespace: ns.Name, Logger: logger,
	}
	if input.ReportDir != "" {
		// Beside the drills' reports, not among them.
		env.ArtifactDir = filepath.Join(input.ReportDir, "artifacts")
	}
	if env.Etcd, err = etcdClient(ctx, input.Provider); err != nil {
		return reports.Drill{}, err
	}
	if env.Etcd != nil {
		defer env.Etcd.Close()
	}
	if sc.Workload != nil {
		endDeploy := rec.Start("deploy the workload", timing.Harness)
		env.App, err = deployWorkload(ctx, input, ns.Name, logger)
		endDeploy()
		if err != nil {
			return reports.Drill{}, err
		}
	}

	endMonitoring := rec.Start("monitoring", timing.Harness)
	env.Alerts, err = scenarioMonitoring(ctx, input, logger)
	endMonitoring()
	if err != nil {
		return reports.Drill{}, err
	}

	opts := drill.Options{Register: input.Register, Injected: input.Injected,
		Preflight: preflightOf(input, env),
		Journal:   journalStore(input.JournalDir, cs, logger),
		JournalEntry: journal.Entry{
			Cluster:     journalCluster(ctx, input.Provider, cs),
			Scenario:    sc.Source,
			ReportDir:   input.ReportDir,
			ClusterCopy: clusterJournal(sc.Fault.Type),
		},
	}
	if input.ReportDir != "" {
		opts.Checkpoint = func(d reports.Drill) {
			if _, err := reports.WriteDrill(input.ReportDir, d); err != nil {
				logger.Warnf("drill %s: checkpoint of the report: %v", sc.Name, err)
			}
		}
	}
	d := drill.Run(ctx, env, sc, opts)
	endSetup()
	d.Phases = rec.Phases()
	if d.Fault.RevertError != "" {
		if err := StopGameDay(input.ReportDir, fmt.Sprintf("the revert of drill %s failed (%s); its journal %s is open: run drill recover",
			sc.Name, d.Fault.RevertError, d.Journal)); err != nil {
			logger.Warnf("%v", err)
		}
	}
	if input.ReportDir != "" {
		path, err := reports.WriteDrill(input.ReportDir, d)
		if err != nil {
			return d, err
		}
		logger.V(0).Infof("drill %s: %s, report %s", sc.Name, d.Verdict, path)
	}
	return d, nil
}

// etcdClient reaches the etcd members of p's cluster; nil when p has no
// cluster.EtcdAccess. The caller closes it.
func etcdClient(ctx context.Context, p cluster.Provider) (*clientv3.Client, error) {
	access, ok := p.(cluster.EtcdAccess)
	if !ok {
		return nil, nil
	}
	cfg, err := access.EtcdConfig(ctx)
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	return cli, nil
}

// notRun begins the failure of a drill that did not run because the game
// day stopped.
const notRun = "not run: "

// refused begins the failure of a drill the guard refused.
const refused = "refused by the guard: "

// noAccess begins the failure of a drill whose user lacks rules it needs.
const noAccess = "preflight: nothing was injected: access: "

// notInjected reports drill sc as one that injected nothing, with verdict
// error and why, and the preflight's checks that said so, and writes its
// report into dir.
func notInjected(dir string, sc *scenarios.Scenario, why string, checks ...reports.Check) (reports.Drill, error) {
	d := reports.Drill{Name: sc.Name, Description: sc.Description, File: sc.File, Verdict: reports.Error,
		Fault:     reports.Fault{Type: string(sc.Fault.Type)},
		Failures:  []string{why},
		Preflight: checks}
	if dir != "" {
		if _, err := reports.WriteDrill(dir, d); err != nil {
			return d, err
		}
	}
	return d, nil
}

// guardDrill says why drill sc may not run on the cluster, "" when it may:
// the cluster has no opt-in, or its workload fault targets a namespace that
// drill did not create and the opt-in does not list. It only reads.
func guardDrill(ctx context.Context, cs kubernetes.Interface, sc *scenarios.Scenario) string {
	m, err := guard.Read(ctx, cs)
	if err != nil {
		return refused + err.Error() + "; opt the cluster in once with `drill cluster opt-in`"
	}
	if t, ok := sc.Fault.Params.(scenarios.NamespaceTargeter); ok && t.TargetNamespace() != "" {
		if err := guard.CheckWorkloadNamespace(ctx, cs, m, t.TargetNamespace()); err != nil {
			return refused + err.Error()
		}
	}
	return ""
}

// stopFile, in a run's report directory, says the game day stopped and why.
const stopFile = "STOPPED"

// StopGameDay stops the game day of the run whose reports go to dir: a
// drill's revert failed, and no drill runs on a cluster it may have left
// broken. Every later drill of the run is reported as not run, with why.
func StopGameDay(dir, why string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, stopFile), []byte(why+"\n"), 0o644)
}

// GameDayStopped says whether the run whose reports go to dir was stopped
// (StopGameDay), and why.
func GameDayStopped(dir string) (bool, string) {
	if dir == "" {
		return false, ""
	}
	data, err := os.ReadFile(filepath.Join(dir, stopFile))
	if err != nil {
		return false, ""
	}
	return true, "the game day stopped: " + strings.TrimSpace(string(data))
}

// clusterJournal says whether the copy of a fault's journal in the cluster
// can be used to recover it (faults.Spec.ClusterJournal).
func clusterJournal(t scenarios.FaultType) bool {
	spec, ok := faults.Lookup(t)
	return ok && spec.ClusterJournal
}

// journalStore keeps journals in dir ("" is recovery.DefaultJournalDir),
// with a copy in the cluster.
func journalStore(dir string, cs kubernetes.Interface, logger log.Logger) *journal.Store {
	if dir == "" {
		dir = recovery.DefaultJournalDir
	}
	return &journal.Store{Dir: dir, Mirror: journal.ConfigMaps{Clientset: cs}, Logger: logger}
}

// journalCluster says how a journal's cluster is reached again, and which
// cluster it is.
func journalCluster(ctx context.Context, p cluster.Provider, cs kubernetes.Interface) journal.Cluster {
	c := journal.Cluster{Name: p.Name(), Provider: "existing", Kubeconfig: p.Kubeconfig().Path, Context: p.Kubeconfig().Context,
		UID: recovery.ClusterUID(ctx, cs)}
	if abs, err := filepath.Abs(c.Kubeconfig); err == nil && c.Kubeconfig != "" {
		c.Kubeconfig = abs
	}
	if _, ok := p.(*cluster.Kind); ok {
		c.Provider = "kind"
	}
	return c
}

// preflightOf checks that the cluster is whole before the drill: nodes,
// etcd, API servers, the drill's workload and the open journals. It waits
// up to input.PreflightWait for a cluster that is still settling from the
// previous drill, and then refuses with what was wrong.
func preflightOf(input RunScenarioInput, env drill.Env) func(context.Context) ([]reports.Check, error) {
	wait := input.PreflightWait
	if wait == 0 {
		wait = 3 * time.Minute
	}
	in := preflightInput(input, env)
	return func(ctx context.Context) ([]reports.Check, error) {
		deadline := time.Now().Add(wait)
		for {
			res := preflight.Run(ctx, in)
			// An open journal does not close by itself, nor does a rule
			// missing come: no point waiting.
			final := slices.ContainsFunc(res.Checks, func(c preflight.Check) bool {
				return (c.Name == preflight.CheckJournals || c.Name == preflight.CheckAccess) && c.Status == preflight.StatusFailed
			})
			if res.OK() || final || time.Now().After(deadline) || ctx.Err() != nil {
				checks := make([]reports.Check, len(res.Checks))
				for i, c := range res.Checks {
					checks[i] = reports.Check{Name: c.Name, Status: string(c.Status), Detail: c.Detail}
				}
				if !res.OK() {
					return checks, fmt.Errorf("%s", strings.Join(res.Problems(), "; "))
				}
				return checks, nil
			}
			env.Logger.V(0).Infof("drill %s: preflight: waiting up to %s for the cluster to be whole: %s",
				input.Scenario.Name, time.Until(deadline).Round(time.Second), strings.Join(res.Problems(), "; "))
			_ = faults.Hold(ctx, 5*time.Second)
		}
	}
}

// preflightInput is what the preflight reads (read-only): the cluster,
// etcd, the drill's workload once deployed, the open journals, and the
// access the drill needs.
func preflightInput(input RunScenarioInput, env drill.Env) preflight.Input {
	in := preflight.Input{Clientset: env.Clientset, RESTConfig: env.RESTConfig, Access: accessOf(input),
		OpenJournals: func(ctx context.Context) ([]string, error) {
			open, err := OpenJournals(ctx, input.Provider, env.Clientset, input.JournalDir)
			var out []string
			for _, o := range open {
				e := o.Journal
				out = append(out, fmt.Sprintf("%s (drill %s, fault %s, at %q, %s journal)", e.ID, e.Drill, e.Fault, e.Step, o.From))
			}
			return out, err
		}}
	if env.Etcd != nil {
		in.Etcd = env.Etcd
	}
	if env.App != nil {
		in.Workload = &preflight.Workload{Namespace: env.App.Namespace, Deployment: env.App.Deployment}
	}
	return in
}

// accessOf is what the drill's fault needs of the API (its access classes
// and those every drill needs, rbac.With), asked through input.Access; nil
// without a reviewer.
func accessOf(input RunScenarioInput) *preflight.Access {
	spec, ok := faults.Lookup(input.Scenario.Fault.Type)
	if !ok || input.Access == nil {
		return nil
	}
	needs, err := rbac.Needs(rbac.With(spec.Access...))
	if err != nil { // the shipped roles do not load: the rbac tests say why
		return &preflight.Access{Reviewer: input.Access}
	}
	return &preflight.Access{Needs: needs, Reviewer: input.Access}
}

// OpenJournals returns the open journals of p's cluster, as recovery sees
// them (not another cluster's, nor a live drill's elsewhere), from dir (""
// is recovery.DefaultJournalDir) and the cluster's copies. It only reads.
func OpenJournals(ctx context.Context, p cluster.Provider, cs kubernetes.Interface, dir string) ([]recovery.Outcome, error) {
	open, _, _, _, err := recovery.Open(ctx, recovery.Input{Provider: p, Clientset: cs, Store: journalStore(dir, cs, nil)})
	return open, err
}

// deployWorkload deploys the scenario's probe app and describes it for the
// samplers: its pods, its PDB, and its node port on a control-plane node,
// which no workload fault touches, outside a zone-outage's zone.
func deployWorkload(ctx context.Context, input RunScenarioInput, ns string, logger log.Logger) (*drill.App, error) {
	w := input.Scenario.Workload
	in := DeployProbeAppInput{Clientset: input.Clientset, Namespace: ns, Replicas: int32(w.Replicas), AllocateNodePort: true, Persistent: w.Persistent}
	switch {
	case w.PDB == nil:
		in.WithoutPDB = true
	case w.PDB.MinAvailable != nil:
		in.MinAvailable = ptr.To(int32(*w.PDB.MinAvailable))
	case w.PDB.MaxUnavailable != nil:
		in.MaxUnavailable = ptr.To(int32(*w.PDB.MaxUnavailable))
	}
	logger.V(0).Infof("deploying the probe app (%d replicas) into %s", w.Replicas, ns)
	app, err := DeployProbeApp(ctx, in)
	if err != nil {
		return nil, err
	}
	nodes, err := input.Provider.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	// A zone-outage cuts its zone off: the app is reached from elsewhere,
	// as a client behind a load balancer spanning the zones would.
	var lost string
	if p, ok := input.Scenario.Fault.Params.(*scenarios.ZoneOutageParams); ok {
		lost = p.Zone
	}
	var ip string
	for _, n := range nodes {
		if n.Role == cluster.RoleControlPlane && n.Ready && n.InternalIP != "" && (lost == "" || n.Zone != lost) {
			ip = n.InternalIP
			break
		}
	}
	if ip == "" {
		return nil, fmt.Errorf("no Ready control-plane node outside the drill's zone to reach the probe app's node port through")
	}
	out := &drill.App{
		Namespace:  ns,
		Deployment: app.Deployment.Name,
		Selector:   metav1.FormatLabelSelector(app.Deployment.Spec.Selector),
		URL:        app.NodeURL(ip, probeapp.PathHealth),
	}
	if w.Persistent {
		out.RecordsURL = app.NodeURL(ip, "")
	}
	if app.PDB != nil {
		out.PDB = app.PDB.Name
		out.DesiredHealthy = desiredHealthy(app.PDB.Spec.MinAvailable, app.PDB.Spec.MaxUnavailable, w.Replicas)
	}
	return out, nil
}

// desiredHealthy is the fewest healthy pods a PDB allows for replicas pods.
func desiredHealthy(minAvailable, maxUnavailable *intstr.IntOrString, replicas int) int {
	switch {
	case minAvailable != nil:
		n, _ := intstr.GetScaledValueFromIntOrPercent(minAvailable, replicas, true)
		return n
	case maxUnavailable != nil:
		n, _ := intstr.GetScaledValueFromIntOrPercent(maxUnavailable, replicas, true)
		return replicas - n
	}
	return 0
}

// scenarioMonitoring returns the alert source of a drill: set up if it
// declares alerts, the process's if there is one, else none.
func scenarioMonitoring(ctx context.Context, input RunScenarioInput, logger log.Logger) (*alerts.Source, error) {
	if input.Scenario.Objectives.Alerts == nil {
		return CurrentMonitoring(), nil
	}
	mc := input.Monitoring
	if mc == nil {
		fromEnv, err := MonitoringFromEnv()
		if err != nil {
			return nil, err
		}
		mc = &fromEnv
	}
	src, err := Monitoring(ctx, input.Provider, input.RESTConfig, input.Clientset, *mc, logger)
	if err != nil {
		return nil, fmt.Errorf("drill %s declares alerts: %w", input.Scenario.Name, err)
	}
	return src, nil
}

// RecoverJournals reverts the faults that an earlier harness left in place
// on provider p's cluster (recovery.Recover), before the first drill, and
// says what it did. An error means a fault could not be recovered: no drill
// may start, and the user must run drill recover.
func RecoverJournals(ctx context.Context, p cluster.Provider, dir string, logger log.Logger) error {
	if dir == "" {
		dir = recovery.DefaultJournalDir
	}
	in, done, err := recovery.Connect(ctx, p, dir, logger)
	if err != nil {
		return fmt.Errorf("recover the open journals of cluster %s: %w", p.Name(), err)
	}
	defer done()
	var out strings.Builder
	in.Out = &out
	outcomes, err := recovery.Recover(ctx, in)
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line != "" {
			logger.V(0).Infof("recover: %s", line)
		}
	}
	if err != nil {
		return fmt.Errorf("refusing to start: an earlier drill left a fault in place that could not be recovered; run `drill recover --name %s` and see why: %w", p.Name(), err)
	}
	if len(outcomes) == 0 {
		logger.V(0).Infof("recover: no open journal of cluster %s", p.Name())
	}
	return nil
}

// GuardCluster checks that drill may inject faults into p's cluster
// (guard.Check), before anything is written to it: the cluster opted in
// and, for an existing cluster, context names its kubeconfig context on
// purpose (contextFlag says how it is passed, for the message). A kind
// cluster drill manages is reached through the context drill wrote itself.
func GuardCluster(ctx context.Context, p cluster.Provider, context, contextFlag string) (guard.Marker, error) {
	_, kind := p.(*cluster.Kind)
	if !kind { // before the kubeconfig is even read
		if err := guard.RequireContext(p.Name(), context, contextFlag); err != nil {
			return guard.Marker{}, err
		}
	}
	cs, err := cluster.Clientset(p)
	if err != nil {
		return guard.Marker{}, err
	}
	return guard.Check(ctx, guard.Input{Clientset: cs, Cluster: p.Name(), Context: context,
		ContextImplied: kind, ContextFlag: contextFlag})
}

package framework

import (
	"context"
	"fmt"
	"path/filepath"
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
	"github.com/drill-sre/drill/internal/probeapp"
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
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: "drill-" + sc.Name + "-",
		Labels:       map[string]string{"app.kubernetes.io/managed-by": "drill", "drill.sre/drill": sc.Name},
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
		env.ArtifactDir = filepath.Join(filepath.Dir(filepath.Clean(input.ReportDir)), "artifacts")
	}
	if access, ok := input.Provider.(cluster.EtcdAccess); ok {
		cfg, err := access.EtcdConfig(ctx)
		if err != nil {
			return reports.Drill{}, err
		}
		cli, err := clientv3.New(cfg)
		if err != nil {
			return reports.Drill{}, fmt.Errorf("etcd client: %w", err)
		}
		defer cli.Close()
		env.Etcd = cli
	}
	if sc.Workload != nil {
		if env.App, err = deployWorkload(ctx, input, ns.Name, logger); err != nil {
			return reports.Drill{}, err
		}
	}

	if env.Alerts, err = scenarioMonitoring(ctx, input, logger); err != nil {
		return reports.Drill{}, err
	}

	d := drill.Run(ctx, env, sc, drill.Options{Register: input.Register, Injected: input.Injected})
	if input.ReportDir != "" {
		path, err := reports.WriteDrill(input.ReportDir, d)
		if err != nil {
			return d, err
		}
		logger.V(0).Infof("drill %s: %s, report %s", sc.Name, d.Verdict, path)
	}
	return d, nil
}

// deployWorkload deploys the scenario's probe app and describes it for the
// samplers: its pods, its PDB, and its node port on a control-plane node,
// which no workload fault touches.
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
	var ip string
	for _, n := range nodes {
		if n.Role == cluster.RoleControlPlane && n.Ready && n.InternalIP != "" {
			ip = n.InternalIP
			break
		}
	}
	if ip == "" {
		return nil, fmt.Errorf("no Ready control-plane node to reach the probe app's node port through")
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

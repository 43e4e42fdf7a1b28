package drill

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/drill-sre/drill/internal/faults"
	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/objectives"
	"github.com/drill-sre/drill/internal/rpo"
	"github.com/drill-sre/drill/scenarios"
)

// Samplers observe one drill from its start to its end: availability and
// state intervals into a recorder, and the RPO writer's writes. The drill
// starts them before the baseline and stops them after the settle.
type Samplers interface {
	// Start starts every sampler and the writer.
	Start(ctx context.Context)
	// Stop stops them all and returns their stats; it may be called more
	// than once.
	Stop() []monitor.Stats
	// Recorder holds what they recorded.
	Recorder() *monitor.Recorder
	// Writes is the RPO writer's log; nil when the drill writes nothing.
	Writes() WriteLog
	// ReadBack reads back what the writer's store holds, once the drill is
	// over; integrity is nil for a store without checksums.
	ReadBack(ctx context.Context) (seqs []int64, integrity *rpo.Integrity, err error)
}

// WriteLog is the RPO writer's log: the acknowledged writes, and how many
// were attempted and failed.
type WriteLog interface {
	Log() (acked []objectives.Write, attempts int64, failures int)
}

// samplers is everything that observes one drill on a real cluster.
type samplers struct {
	rec      *monitor.Recorder
	samplers []*monitor.Sampler
	writer   *rpo.Writer
	// readBack reads back what the writer's store holds, once the drill is
	// over, with a patient client; integrity is nil for a store without
	// checksums. The records stay: they live in the drill's namespace
	// (Env.RecordsNamespace), which goes when the drill ends.
	readBack func(ctx context.Context) (seqs []int64, integrity *rpo.Integrity, err error)

	stops      []func() monitor.Stats
	stopWriter func()
	stats      []monitor.Stats
}

// samplingClient is a client for samplers: no client-side rate limit (the
// samplers' own interval is the limit) and a short timeout.
func samplingClient(cfg *rest.Config, timeout time.Duration) (kubernetes.Interface, error) {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst, c.Timeout = -1, 0, timeout
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("sampling client: %w", err)
	}
	return cs, nil
}

// newSamplers builds the samplers a drill needs.
func newSamplers(ctx context.Context, env Env, sc *scenarios.Scenario, run string) (*samplers, error) {
	s := &samplers{rec: monitor.NewRecorder()}
	interval := sc.Sampling.Interval
	timeout := sc.Sampling.Timeout
	if timeout == 0 {
		timeout = scenarios.DefaultSamplingTimeout
	}
	opts := []monitor.SamplerOption{monitor.SamplerWithInterval(interval), monitor.SamplerWithTimeout(timeout), monitor.SamplerWithLogger(env.Logger)}
	cs, err := samplingClient(env.RESTConfig, timeout)
	if err != nil {
		return nil, err
	}
	add := func(sm *monitor.Sampler, err error) error {
		if err != nil {
			return err
		}
		s.samplers = append(s.samplers, sm)
		return nil
	}
	state := func(locator string, p monitor.Probe) error {
		return add(monitor.NewStateSampler(locator, p, s.rec, opts...))
	}

	// The API through the load balancer (the kubeconfig's server), always.
	readyz := strings.TrimSuffix(env.RESTConfig.Host, "/") + "/readyz"
	for _, c := range []struct {
		locator string
		conn    monitor.Connection
	}{{monitor.LocatorAPINew, monitor.NewConnections}, {monitor.LocatorAPIReused, monitor.ReusedConnections}} {
		h, err := monitor.NewAPICheck(env.RESTConfig, readyz, c.conn)
		if err != nil {
			return nil, err
		}
		if err := add(monitor.NewSampler(c.locator, h.Check, s.rec, opts...)); err != nil {
			return nil, err
		}
	}

	// The samplers the fault's spec asks for (faults.New refused an
	// unregistered fault already).
	spec, _ := faults.Lookup(sc.Fault.Type)
	if spec.Samplers.Has(faults.SampleControlPlane) {
		servers, err := monitor.APIServerEndpoints(ctx, cs)
		if err != nil {
			return nil, err
		}
		for _, hp := range servers {
			if err := add(monitor.NewSampler(monitor.LocatorAPIServer(hp), monitor.APIServerCheck(env.RESTConfig, "https://"+hp+"/readyz"), s.rec, opts...)); err != nil {
				return nil, err
			}
		}
		if err := state(monitor.LocatorControllerManagerLease, monitor.LeaseHolder(cs, "kube-system", "kube-controller-manager")); err != nil {
			return nil, err
		}
		if err := state(monitor.LocatorSchedulerLease, monitor.LeaseHolder(cs, "kube-system", "kube-scheduler")); err != nil {
			return nil, err
		}
		if env.Etcd != nil {
			if err := state(monitor.LocatorEtcdLeader, monitor.EtcdLeader(env.Etcd)); err != nil {
				return nil, err
			}
			if err := state(monitor.LocatorEtcdMembers, monitor.EtcdMembers(env.Etcd)); err != nil {
				return nil, err
			}
			resp, err := env.Etcd.MemberList(ctx)
			if err != nil {
				return nil, fmt.Errorf("etcd member list: %w", err)
			}
			for _, m := range resp.Members {
				if m.Name == "" || len(m.ClientURLs) == 0 {
					continue
				}
				if err := add(monitor.NewSampler(monitor.LocatorEtcdMember(m.Name), monitor.EtcdEndpointHealthy(env.Etcd, m.ClientURLs[0]), s.rec, opts...)); err != nil {
					return nil, err
				}
			}
		}
		// Acknowledged writes into etcd, through the API.
		store := rpo.ConfigMapStore{CS: cs, Namespace: env.RecordsNamespace, Run: run}
		if s.writer, err = rpo.NewWriter(store, interval, timeout, env.Logger); err != nil {
			return nil, err
		}
		// Read with the drill's client: the samplers' has their short
		// timeout.
		reader := rpo.ConfigMapStore{CS: env.Clientset, Namespace: env.RecordsNamespace, Run: run}
		s.readBack = func(ctx context.Context) ([]int64, *rpo.Integrity, error) {
			seqs, err := reader.ReadBack(ctx)
			return seqs, nil, err
		}
	}
	if spec.Samplers.Has(faults.SampleAppRecords) {
		if env.App == nil || env.App.RecordsURL == "" {
			return nil, fmt.Errorf("%s needs a persistent workload to write records into", sc.Fault.Type)
		}
		// Acknowledged writes onto the app's volume, through the app.
		store := rpo.ProbeAppStore{URL: env.App.RecordsURL, Client: &http.Client{Timeout: timeout}}
		if s.writer, err = rpo.NewWriter(store, interval, timeout, env.Logger); err != nil {
			return nil, err
		}
		reader := rpo.ProbeAppStore{URL: env.App.RecordsURL, Client: &http.Client{Timeout: 30 * time.Second}}
		s.readBack = func(ctx context.Context) ([]int64, *rpo.Integrity, error) {
			seqs, in, err := reader.ReadBackChecked(ctx)
			return seqs, &in, err
		}
	}

	if app := env.App; app != nil {
		h, err := monitor.NewHTTPCheck(app.URL, monitor.NewConnections)
		if err != nil {
			return nil, err
		}
		if err := add(monitor.NewSampler(monitor.LocatorApp, h.Check, s.rec, opts...)); err != nil {
			return nil, err
		}
		if err := state(monitor.LocatorReadyPods, monitor.ReadyPods(cs, app.Namespace, app.Selector)); err != nil {
			return nil, err
		}
		if err := state(monitor.LocatorRollout, monitor.DeploymentRollout(cs, app.Namespace, app.Deployment)); err != nil {
			return nil, err
		}
		if app.PDB != "" {
			if err := state(monitor.LocatorDisruptionsAllowed, monitor.DisruptionsAllowed(cs, app.Namespace, app.PDB)); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

var _ Samplers = (*samplers)(nil)

// Start implements Samplers.
func (s *samplers) Start(ctx context.Context) {
	for _, sm := range s.samplers {
		s.stops = append(s.stops, sm.Start(ctx))
	}
	if s.writer != nil {
		s.stopWriter = s.writer.Start(ctx)
	}
}

// Stop implements Samplers.
func (s *samplers) Stop() []monitor.Stats {
	if s.stopWriter != nil {
		s.stopWriter()
		s.stopWriter = nil
	}
	for _, stop := range s.stops {
		s.stats = append(s.stats, stop())
	}
	s.stops = nil
	return s.stats
}

// Recorder implements Samplers.
func (s *samplers) Recorder() *monitor.Recorder { return s.rec }

// Writes implements Samplers.
func (s *samplers) Writes() WriteLog {
	if s.writer == nil {
		return nil
	}
	return s.writer
}

// ReadBack implements Samplers.
func (s *samplers) ReadBack(ctx context.Context) ([]int64, *rpo.Integrity, error) {
	if s.readBack == nil {
		return nil, nil, errNoWriter
	}
	return s.readBack(ctx)
}

package reports

import (
	"fmt"
	"strconv"
	"time"

	"github.com/drill-sre/drill/internal/monitor"
)

// richDrill is a drill with data for every row of the timeline: the API
// over both connections, two API servers, the etcd leader and members, the
// app, Ready pods and the PDB, fault steps, two alerts and three deadlines.
func richDrill() Drill {
	d := passDrill()
	d.Name = "rich"
	d.Fault.Steps = []monitor.Interval{
		{From: at(-20), To: at(-8), Locator: "velero", Level: monitor.Info, Message: "Backup drill-1 to default: Completed, 40/40 items"},
		{From: at(72), To: at(80), Locator: "velero", Level: monitor.Error, Message: "restore drill-1: PartiallyFailed"},
		{From: at(-30), To: at(-29), Locator: "etcd/snapshot", Level: monitor.Info, Message: "snapshot 1 saved"},
	}
	d.Intervals = []monitor.Interval{
		{From: at(10), To: at(85.3), Locator: "fault/kill-control-plane", Level: monitor.Info, Message: "injected"},
		{From: at(10.5), To: at(21.8), Locator: monitor.LocatorAPINew, Level: monitor.Error, Message: "dial tcp: connection refused"},
		{From: at(11), To: at(13), Locator: monitor.LocatorAPIReused, Level: monitor.Error, Message: "EOF"},
		{From: at(10.2), To: at(94.2), Locator: monitor.LocatorAPIServer("172.18.0.3:6443"), Level: monitor.Error, Message: "no route to host", Open: true},
		{From: at(0), To: at(11), Locator: monitor.LocatorEtcdLeader, Level: monitor.Info, Message: "drill-control-plane2"},
		{From: at(11), To: at(14), Locator: monitor.LocatorEtcdLeader, Level: monitor.Error, Message: "no leader"},
		{From: at(14), To: at(94.2), Locator: monitor.LocatorEtcdLeader, Level: monitor.Info, Message: "drill-control-plane3", Open: true},
		{From: at(10.1), To: at(84), Locator: monitor.LocatorEtcdMember("drill-control-plane2"), Level: monitor.Error, Message: "context deadline exceeded"},
		{From: at(12), To: at(31), Locator: monitor.LocatorApp, Level: monitor.Error, Message: "503 Service Unavailable"},
		{From: at(0), To: at(12), Locator: monitor.LocatorReadyPods, Level: monitor.Info, Message: "3"},
		{From: at(12), To: at(30), Locator: monitor.LocatorReadyPods, Level: monitor.Info, Message: "2"},
		{From: at(30), To: at(94.2), Locator: monitor.LocatorReadyPods, Level: monitor.Info, Message: "3", Open: true},
		{From: at(15), To: at(16), Locator: monitor.LocatorReadyPods, Level: monitor.Error, Message: "list pods: timeout"},
		{From: at(0), To: at(12), Locator: monitor.LocatorDisruptionsAllowed, Level: monitor.Info, Message: "1"},
		{From: at(12), To: at(94.2), Locator: monitor.LocatorDisruptionsAllowed, Level: monitor.Info, Message: "0", Open: true},
		// Rows the timeline has none for.
		{From: at(0), To: at(94.2), Locator: monitor.LocatorSchedulerLease, Level: monitor.Info, Message: "drill-control-plane"},
		{From: at(0), To: at(94.2), Locator: monitor.LocatorRollout, Level: monitor.Info, Message: "complete"},
	}
	monitor.Sort(d.Intervals)
	d.Samplers = []monitor.Stats{
		{Locator: monitor.LocatorAPINew, Started: at(0), Stopped: at(94.2), Interval: time.Second, Samples: 94, Failures: 11, Outages: 1},
		{Locator: monitor.LocatorAPIReused, Started: at(0), Stopped: at(94.2), Interval: time.Second, Samples: 94, Failures: 2, Outages: 1},
		// A server that never failed still has its row: it was sampled.
		{Locator: monitor.LocatorAPIServer("172.18.0.4:6443"), Started: at(0), Stopped: at(94.2), Interval: time.Second, Samples: 94},
		{Locator: monitor.LocatorSchedulerLease, Started: at(0), Stopped: at(94.2), Interval: time.Second, Samples: 94},
	}
	d.Alerts = &Alerts{
		Prometheus: "http://127.0.0.1:9090", Receiver: "http://127.0.0.1:9094/hook", EvaluationInterval: 5 * time.Second,
		Seen: []Alert{
			{Name: "KubeAPIDown", Labels: map[string]string{"severity": "critical", "job": "apiserver"},
				Pending: []Span{{From: at(15), To: at(45)}}, Firing: []Span{{From: at(45), To: at(94.2), Open: true}},
				Notified: at(50)},
			{Name: "EtcdMembersDown", Labels: map[string]string{"severity": "warning"},
				Firing: []Span{{From: at(40), To: at(88)}}, Notified: at(41), NotifiedResolved: at(90)},
		},
	}
	d.Objectives = append(d.Objectives,
		Objective{Name: "rto.app", Bound: "30.0s", Measured: "21.0s", Value: 21, Unit: "s", Verdict: Pass},
		Objective{Name: "maxDuration", Bound: "90.0s", Measured: "75.3s", Value: 75.3, Unit: "s", Verdict: Pass},
		Objective{Name: "alerts.KubeAPIDown.firing", Bound: "within 30.0s", Measured: "35.0s", Value: 35, Unit: "s", Verdict: Fail},
		Objective{Name: "alerts.EtcdMembersDown.resolved", Bound: "within 10.0s of the revert", Measured: "2.7s", Value: 2.7, Unit: "s", Verdict: Pass},
		// Not deadlines: a window of lost writes, a count.
		Objective{Name: "rpo.maxDataLoss", Bound: "5.0s", Measured: "0.0s", Unit: "s", Verdict: Pass},
		Objective{Name: "availability", Bound: "≥ 2 Ready", Measured: "2 Ready", Value: 2, Unit: "pods", Verdict: Pass},
	)
	return d
}

// flappingDrill is a drill of a long, flapping game day: every sampler of
// a control-plane drill records n outages (each with a message of about a
// hundred characters) and Ready pods change n times, over an hour.
func flappingDrill(name string, n int) Drill {
	d := richDrill()
	d.Name = name
	d.Finished = at(3600)
	d.Intervals = nil
	msg := func(l string, i int) string {
		return fmt.Sprintf("Get \"https://172.18.0.%d:6443/readyz\": dial tcp 172.18.0.%d:6443: connect: connection refused (sample %d of %s)", i%250, i%250, i, l)
	}
	locators := []string{monitor.LocatorAPINew, monitor.LocatorAPIReused, monitor.LocatorAPIServer("172.18.0.3:6443"),
		monitor.LocatorAPIServer("172.18.0.4:6443"), monitor.LocatorAPIServer("172.18.0.5:6443"), monitor.LocatorEtcdLeader,
		monitor.LocatorEtcdMember("a"), monitor.LocatorEtcdMember("b"), monitor.LocatorEtcdMember("c"), monitor.LocatorApp}
	step := 3600.0 / float64(n)
	for _, l := range locators {
		for i := range n {
			from := 10 + float64(i)*step
			d.Intervals = append(d.Intervals, monitor.Interval{From: at(from), To: at(from + step/2), Locator: l, Level: monitor.Error, Message: msg(l, i)})
		}
	}
	for i := range n {
		from := float64(i) * step
		d.Intervals = append(d.Intervals,
			monitor.Interval{From: at(from), To: at(from + step), Locator: monitor.LocatorReadyPods, Level: monitor.Info, Message: strconv.Itoa(1 + i%3)},
			monitor.Interval{From: at(from), To: at(from + step), Locator: monitor.LocatorDisruptionsAllowed, Level: monitor.Info, Message: strconv.Itoa(i % 2)})
	}
	monitor.Sort(d.Intervals)
	return d
}

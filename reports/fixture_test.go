package reports

import (
	"time"

	"github.com/drill-sre/drill/internal/monitor"
)

// t0 is the fixed origin of every time in the tests.
var t0 = time.Date(2025, 11, 27, 14, 0, 0, 0, time.UTC)

// at is t0 plus seconds.
func at(seconds float64) time.Time {
	return t0.Add(time.Duration(seconds * float64(time.Second)))
}

// passDrill is a drill that passed: the API came back in 11.3s.
func passDrill() Drill {
	return Drill{
		Name:             "kill-control-plane-etcd-leader",
		Description:      "Kill the control-plane node that leads etcd.",
		File:             "scenarios/kill-control-plane-etcd-leader.yaml",
		Verdict:          Pass,
		Started:          at(0),
		Finished:         at(94.2),
		SamplingInterval: time.Second,
		Fault: Fault{
			Type:          "kill-control-plane",
			Target:        "node drill-control-plane2 (etcd leader)",
			Injected:      at(10),
			Effective:     at(12.1),
			Facts:         []string{"container exited", "etcd has 2 members"},
			RevertStarted: at(70),
			Reverted:      at(85.3),
		},
		Objectives: []Objective{
			{Name: "rto.api", Bound: "20s", Measured: "11.3s", Value: 11.3, Unit: "s", Verdict: Pass, Detail: "longest outage"},
			{Name: "rpo.writes", Bound: "0 writes", Measured: "0 writes", Value: 0, Unit: "writes", Verdict: Pass},
		},
		Measurements: []Measurement{
			{Name: "etcd leader change", Value: 1, Unit: "count", Detail: "drill-control-plane2 → drill-control-plane3"},
			{Name: "rejoin", Value: 8.25, Unit: "s"},
		},
		Intervals: []monitor.Interval{
			{From: at(10), To: at(85.3), Locator: "fault/kill-control-plane", Level: monitor.Info, Message: "injected"},
			{From: at(10.5), To: at(21.8), Locator: "url/https://127.0.0.1:6443/readyz connection/new", Level: monitor.Error, Message: "connection refused"},
		},
		Samplers: []monitor.Stats{
			{Locator: "url/https://127.0.0.1:6443/readyz connection/new", Started: at(0), Stopped: at(94.2), Interval: time.Second, Samples: 94, Failures: 11, Outages: 1},
		},
	}
}

// failDrill is a drill that failed its RTO, with pipes in its text.
func failDrill() Drill {
	return Drill{
		Name:        "drain-zone-blocked",
		Description: "Drain zone a while a PDB blocks it.",
		Verdict:     Fail,
		Failures:    []string{"rto.app: 31.2s exceeds 20s"},
		Started:     at(100),
		Finished:    at(211.3),
		Fault: Fault{
			Type:          "drain-zone",
			Target:        "zone zone-a",
			Injected:      at(105),
			Effective:     at(106),
			Facts:         []string{"2 nodes cordoned"},
			RevertStarted: at(160),
			RevertError:   "uncordon drill-worker: timeout",
		},
		Objectives: []Objective{
			{Name: "rto.app", Bound: "20s", Measured: "31.2s", Value: 31.2, Unit: "s", Verdict: Fail, Detail: "a|b pods unready"},
			{Name: "rpo.records", Bound: "0", Measured: "0", Unit: "records", Verdict: Pass},
		},
		Intervals: []monitor.Interval{
			{From: at(140), To: at(211.3), Locator: "app/probe-app", Level: monitor.Error, Message: "503 | upstream", Open: true},
			{From: at(108), To: at(139.2), Locator: "app/probe-app", Level: monitor.Error, Message: "timeout"},
			{From: at(105), To: at(106), Locator: "fault/drain-zone", Level: monitor.Info},
		},
	}
}

// errorDrill is a drill that could not measure.
func errorDrill() Drill {
	return Drill{
		Name:     "crashloop-pods",
		Verdict:  Error,
		Failures: []string{"cluster not healthy before injection"},
		Started:  at(300),
		Finished: at(305),
		Fault:    Fault{Type: "crashloop-pods", Target: "deployment probe-app"},
	}
}

// sampleReport is a game day with a pass, a fail and an error.
func sampleReport() Report {
	return Report{
		SchemaVersion: SchemaVersion,
		Cluster:       "drill",
		Started:       at(0),
		Finished:      at(305),
		Drills:        []Drill{passDrill(), failDrill(), errorDrill()},
	}
}

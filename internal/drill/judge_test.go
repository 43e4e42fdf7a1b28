package drill

import (
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/drill-sre/drill/internal/faults"
	"github.com/drill-sre/drill/internal/monitor"
	"github.com/drill-sre/drill/internal/objectives"
	"github.com/drill-sre/drill/internal/rpo"
	"github.com/drill-sre/drill/reports"
	"github.com/drill-sre/drill/scenarios"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func sec(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func outage(loc string, from, to float64) monitor.Interval {
	return monitor.Interval{From: sec(from), To: sec(to), Locator: loc, Level: monitor.Error}
}

func state(loc, v string, from, to float64) monitor.Interval {
	return monitor.Interval{From: sec(from), To: sec(to), Locator: loc, Level: monitor.Info, Message: v}
}

// drillAt is a drill injected at 10s, reverted from 60s to 70s, sampled
// until 80s.
func drillAt(ivs ...monitor.Interval) reports.Drill {
	return reports.Drill{
		Started: sec(0), Finished: sec(80), Intervals: ivs,
		Fault: reports.Fault{Injected: sec(10), RevertStarted: sec(60), Reverted: sec(70)},
	}
}

func TestJudgeRTO(t *testing.T) {
	api := func(d time.Duration) *scenarios.Scenario {
		return &scenarios.Scenario{Objectives: scenarios.Objectives{RTO: &scenarios.RTO{API: d}}}
	}
	for _, tc := range []struct {
		name    string
		bound   time.Duration
		ivs     []monitor.Interval
		verdict reports.Verdict
		value   float64
		detail  string
	}{
		{"no outage", 20 * time.Second, nil, reports.Pass, 0, ""},
		{"before injection ignored", 20 * time.Second,
			[]monitor.Interval{outage(monitor.LocatorAPINew, 2, 4)}, reports.Pass, 0, ""},
		{"last end counts", 20 * time.Second,
			[]monitor.Interval{outage(monitor.LocatorAPINew, 11, 15), outage(monitor.LocatorAPINew, 17, 21.5)}, reports.Pass, 11.5, "2 outages"},
		{"a kept-alive connection is reported, not judged", 20 * time.Second,
			[]monitor.Interval{outage(monitor.LocatorAPINew, 11, 15), outage(monitor.LocatorAPIReused, 12, 50)}, reports.Pass, 5, "kept-alive connection (not judged) was unavailable until 40.0s"},
		{"over the bound", 5 * time.Second,
			[]monitor.Interval{outage(monitor.LocatorAPINew, 11, 21.5)}, reports.Fail, 11.5, ""},
		{"outage during the revert is not the fault's", 20 * time.Second,
			[]monitor.Interval{outage(monitor.LocatorAPINew, 11, 15), outage(monitor.LocatorAPINew, 62, 64)}, reports.Pass, 5, "during the revert: 2.0s"},
		{"other locators ignored", 1 * time.Second,
			[]monitor.Interval{outage(monitor.LocatorApp, 11, 50), outage(monitor.LocatorAPIServer("a:6443"), 11, 50)}, reports.Pass, 0, ""},
		{"not recovered", 60 * time.Second,
			[]monitor.Interval{{From: sec(11), To: sec(60), Locator: monitor.LocatorAPINew, Level: monitor.Error, Open: true}}, reports.Fail, 50, "still unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := judge(api(tc.bound), drillAt(tc.ivs...), nil, writeLoss{}, nil)
			if len(got) != 1 {
				t.Fatalf("got %d objectives, want 1", len(got))
			}
			o := got[0]
			if o.Name != "rto.api" || o.Verdict != tc.verdict || o.Value != tc.value || !strings.Contains(o.Detail, tc.detail) {
				t.Errorf("got %+v, want verdict %s value %g detail containing %q", o, tc.verdict, tc.value, tc.detail)
			}
		})
	}
}

func TestJudgeReadyAndPDB(t *testing.T) {
	sc := &scenarios.Scenario{Objectives: scenarios.Objectives{
		Availability: &scenarios.Availability{MinReady: 2},
		PDB:          &scenarios.PDBObjective{NeverViolated: true},
	}}
	app := &App{DesiredHealthy: 2}
	for _, tc := range []struct {
		name    string
		ivs     []monitor.Interval
		verdict reports.Verdict
		min     float64
	}{
		{"held", []monitor.Interval{state(monitor.LocatorReadyPods, "3", 0, 20), state(monitor.LocatorReadyPods, "2", 20, 30), state(monitor.LocatorReadyPods, "3", 30, 80)}, reports.Pass, 2},
		{"dip before injection ignored", []monitor.Interval{state(monitor.LocatorReadyPods, "1", 0, 5), state(monitor.LocatorReadyPods, "3", 5, 80)}, reports.Pass, 3},
		{"value at injection counts", []monitor.Interval{state(monitor.LocatorReadyPods, "1", 0, 15), state(monitor.LocatorReadyPods, "3", 15, 80)}, reports.Fail, 1},
		{"dip during revert counts", []monitor.Interval{state(monitor.LocatorReadyPods, "3", 0, 65), state(monitor.LocatorReadyPods, "1", 65, 66), state(monitor.LocatorReadyPods, "3", 66, 80)}, reports.Fail, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := judge(sc, drillAt(tc.ivs...), app, writeLoss{}, nil)
			if len(got) != 2 {
				t.Fatalf("got %d objectives, want 2", len(got))
			}
			for _, o := range got {
				if o.Verdict != tc.verdict || o.Value != tc.min {
					t.Errorf("%s: got %s %g, want %s %g", o.Name, o.Verdict, o.Value, tc.verdict, tc.min)
				}
			}
		})
	}
	got := judge(sc, drillAt(), app, writeLoss{}, nil)
	if got[0].Verdict != reports.Error {
		t.Errorf("no samples: got %s, want error", got[0].Verdict)
	}
}

func TestJudgeRPO(t *testing.T) {
	sc := &scenarios.Scenario{Objectives: scenarios.Objectives{RPO: &scenarios.RPO{MaxLostWrites: ptr.To(0), MaxDataLoss: time.Second}}}
	acked := []objectives.Write{{Seq: 1, Acked: sec(8)}, {Seq: 2, Acked: sec(9)}, {Seq: 3, Acked: sec(9.9)}}
	kept := writeLoss{DataLoss: objectives.RPO(sec(10), acked, []int64{1, 2, 3}), Attempts: 4, Failures: 1}
	for _, o := range judge(sc, drillAt(), nil, kept, nil) {
		if o.Verdict != reports.Pass {
			t.Errorf("nothing lost: %s %s", o.Name, o.Verdict)
		}
	}
	lost := writeLoss{DataLoss: objectives.RPO(sec(10), acked, []int64{1}), Attempts: 3}
	got := judge(sc, drillAt(), nil, lost, nil)
	if got[0].Verdict != reports.Fail || got[0].Value != 2 || !strings.Contains(got[0].Detail, "seq [2 3]") {
		t.Errorf("two lost: %+v", got[0])
	}
	if got[1].Verdict != reports.Fail || got[1].Value != 1.9 {
		t.Errorf("window 1.9s over 1s: %+v", got[1])
	}
	if got := judge(sc, drillAt(), nil, writeLoss{}, errors.New("API down")); got[0].Verdict != reports.Error {
		t.Errorf("read-back failure: got %s, want error", got[0].Verdict)
	}
	if got := judge(sc, drillAt(), nil, writeLoss{Attempts: 10, Failures: 10}, nil); got[0].Verdict != reports.Error {
		t.Errorf("no acknowledged write: got %s, want error", got[0].Verdict)
	}
}

// A restore from a snapshot loses the writes acknowledged after it: an RPO
// tighter than the snapshot interval fails, and says why.
func TestJudgeRPOFromBackup(t *testing.T) {
	backup := &faults.Backup{Taken: sec(5), Interval: 30 * time.Second, What: "etcd snapshot s.db at revision 9"}
	// One write a second from 1 to 20; the snapshot at 5 kept 1..4; the
	// disaster at 20.5.
	var acked []objectives.Write
	for i := int64(1); i <= 20; i++ {
		acked = append(acked, objectives.Write{Seq: i, Acked: sec(float64(i) - 0.1)})
	}
	loss := func(readBack ...int64) writeLoss {
		d := objectives.RPO(sec(20.5), acked, readBack)
		return writeLoss{DataLoss: d, Attempts: 20, Backup: backup, BackupAge: 15500 * time.Millisecond,
			LostBeforeBackup: lostBefore(acked, d.Lost, backup.Taken)}
	}
	tight := &scenarios.Scenario{Objectives: scenarios.Objectives{RPO: &scenarios.RPO{MaxDataLoss: 10 * time.Second}}}
	got := judge(tight, drillAt(), nil, loss(1, 2, 3, 4, 5), nil)
	if len(got) != 2 {
		t.Fatalf("want rpo.maxDataLoss and rpo.backupKept, got %+v", got)
	}
	if o := got[0]; o.Verdict != reports.Fail || o.Value != 15 ||
		!strings.Contains(o.Detail, "tighter than the backup interval") || !strings.Contains(o.Detail, "taken 15.5s before the disaster") {
		t.Errorf("10s bound, 15s lost, snapshots every 30s: %+v", o)
	}
	if o := got[1]; o.Verdict != reports.Pass {
		t.Errorf("every write before the snapshot kept: %+v", o)
	}

	loose := &scenarios.Scenario{Objectives: scenarios.Objectives{RPO: &scenarios.RPO{MaxDataLoss: 35 * time.Second}}}
	if o := judge(loose, drillAt(), nil, loss(1, 2, 3, 4, 5), nil)[0]; o.Verdict != reports.Pass || strings.Contains(o.Detail, "tighter") {
		t.Errorf("35s bound: %+v", o)
	}
	// A write acknowledged before the snapshot is missing: the backup
	// did not hold what it should.
	got = judge(loose, drillAt(), nil, loss(1, 3, 4, 5), nil)
	if o := got[1]; o.Verdict != reports.Fail || o.Value != 1 {
		t.Errorf("write 2 lost from before the snapshot: %+v", o)
	}
}

func TestJudgeIntegrity(t *testing.T) {
	sc := &scenarios.Scenario{Objectives: scenarios.Objectives{Integrity: &scenarios.Integrity{MaxCorrupted: ptr.To(0)}}}
	for _, tc := range []struct {
		name    string
		loss    writeLoss
		err     error
		verdict reports.Verdict
	}{
		{"all valid", writeLoss{Integrity: &rpo.Integrity{Valid: 40}}, nil, reports.Pass},
		{"one corrupted", writeLoss{Integrity: &rpo.Integrity{Valid: 39, Corrupted: []string{"line 7 (seq 7): checksum does not match"}}}, nil, reports.Fail},
		{"nothing read back", writeLoss{Integrity: &rpo.Integrity{}}, nil, reports.Error},
		{"no checksums", writeLoss{}, nil, reports.Error},
		{"read-back failed", writeLoss{}, errors.New("connection refused"), reports.Error},
	} {
		if o := judge(sc, drillAt(), nil, tc.loss, tc.err)[0]; o.Verdict != tc.verdict {
			t.Errorf("%s: %+v, want %s", tc.name, o, tc.verdict)
		}
	}
}

func TestJudgeMaxDuration(t *testing.T) {
	sc := &scenarios.Scenario{Objectives: scenarios.Objectives{MaxDuration: time.Minute}}
	if o := judge(sc, drillAt(), nil, writeLoss{}, nil)[0]; o.Verdict != reports.Pass || o.Value != 60 {
		t.Errorf("reverted at 70s: %+v", o)
	}
	if o := judge(sc, drillAt(outage(monitor.LocatorApp, 65, 72)), nil, writeLoss{}, nil)[0]; o.Verdict != reports.Fail || o.Value != 62 {
		t.Errorf("app back at 72s: %+v", o)
	}
	d := drillAt()
	d.Fault.Reverted = time.Time{}
	if o := judge(sc, d, nil, writeLoss{}, nil)[0]; o.Verdict != reports.Fail {
		t.Errorf("never reverted: %+v", o)
	}
}

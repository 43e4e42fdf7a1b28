package monitor

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestStateTracker(t *testing.T) {
	rec := NewRecorder()
	st := &stateTracker{locator: "etcd/leader", rec: rec}
	for i, v := range []string{"a", "a", "b", "b", "b", "a"} {
		st.observe(at(100*i), v)
	}
	st.stop(at(700))
	got := rec.Intervals()
	want := []Interval{
		{From: at(0), To: at(200), Locator: "etcd/leader", Level: Info, Message: "a"},
		{From: at(200), To: at(500), Locator: "etcd/leader", Level: Info, Message: "b"},
		{From: at(500), To: at(700), Locator: "etcd/leader", Level: Info, Message: "a", Open: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d intervals %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("interval %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	changes := Changes(got, "etcd/leader")
	if v, ok := ValueAt(changes, at(250)); !ok || v != "b" {
		t.Errorf("ValueAt(250) = %q, %v; want b", v, ok)
	}
	if _, ok := ValueAt(changes, at(0).Add(-time.Millisecond)); ok {
		t.Error("ValueAt before the first sample should be unknown")
	}
	if c, ok := FirstChangeAfter(changes, at(250)); !ok || c.Value != "a" || !c.At.Equal(at(500)) {
		t.Errorf("FirstChangeAfter(250) = %+v, %v; want a at 500", c, ok)
	}
	if _, ok := FirstChangeAfter(changes, at(600)); ok {
		t.Error("no change after 600")
	}
}

// A state sampler records values as Info intervals and failed probes as
// Error intervals, without the failure changing the state.
func TestStateSampler(t *testing.T) {
	var n atomic.Int32
	probe := func(context.Context) (string, error) {
		switch i := n.Add(1); {
		case i <= 3:
			return "a", nil
		case i <= 5:
			return "", errors.New("unreachable")
		default:
			return "b", nil
		}
	}
	rec := NewRecorder()
	s, err := NewStateSampler("lease/x", probe, rec, SamplerWithInterval(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stop := s.Start(ctx)
	for n.Load() < 8 {
		time.Sleep(time.Millisecond)
	}
	stats := stop()
	cancel()
	var values []string
	errs := 0
	for _, i := range rec.Intervals() {
		switch i.Level {
		case Info:
			values = append(values, i.Message)
		case Error:
			errs++
		}
	}
	if len(values) != 2 || values[0] != "a" || values[1] != "b" {
		t.Errorf("values %v, want [a b]", values)
	}
	if errs != 1 || stats.Failures != 2 {
		t.Errorf("%d error intervals and %d failures, want 1 and 2", errs, stats.Failures)
	}
	if _, err := NewStateSampler("x", nil, rec); err == nil {
		t.Error("a state sampler without a probe should be refused")
	}
}

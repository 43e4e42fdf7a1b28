package timing

import (
	"context"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func sec(s int) time.Duration { return time.Duration(s) * time.Second }

func TestAttribute(t *testing.T) {
	cases := []struct {
		name         string
		phases       []Phase
		from, to     int
		want         map[Bucket]time.Duration
		unattributed time.Duration
	}{
		{
			name: "the innermost phase takes its time from the outer",
			phases: []Phase{
				{Name: "drill", Bucket: Harness, From: at(0), To: at(100)},
				{Name: "baseline", Bucket: Declared, From: at(10), To: at(15)},
				{Name: "revert", Bucket: Recovery, From: at(50), To: at(80)},
				{Name: "load images", Bucket: Cluster, From: at(60), To: at(70)},
			},
			from: 0, to: 100,
			want: map[Bucket]time.Duration{Harness: sec(65), Declared: sec(5), Recovery: sec(20), Cluster: sec(10)},
		},
		{
			name:   "time no phase covers is unattributed, phases are clipped to the span",
			phases: []Phase{{Name: "a", Bucket: Declared, From: at(-10), To: at(20)}, {Name: "b", Bucket: Recovery, From: at(30), To: at(200)}},
			from:   0, to: 100,
			want:         map[Bucket]time.Duration{Declared: sec(20), Recovery: sec(70)},
			unattributed: sec(10),
		},
		{
			name: "of overlapping siblings the later one wins while it lasts",
			phases: []Phase{
				{Name: "first", Bucket: Declared, From: at(0), To: at(30)},
				{Name: "second", Bucket: Recovery, From: at(20), To: at(40)},
			},
			from: 0, to: 40,
			want: map[Bucket]time.Duration{Declared: sec(20), Recovery: sec(20)},
		},
		{
			name: "of two starting together the later in the list wins",
			phases: []Phase{
				{Name: "outer", Bucket: Harness, From: at(0), To: at(10)},
				{Name: "inner", Bucket: Cluster, From: at(0), To: at(4)},
			},
			from: 0, to: 10,
			want: map[Bucket]time.Duration{Cluster: sec(4), Harness: sec(6)},
		},
		{name: "an empty span", phases: []Phase{{Bucket: Harness, From: at(0), To: at(10)}}, from: 5, to: 5, want: map[Bucket]time.Duration{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := Attribute(c.phases, at(c.from), at(c.to))
			var sum time.Duration
			for _, k := range Buckets {
				if b.Buckets[k] != c.want[k] {
					t.Errorf("%s = %s, want %s", k, b.Buckets[k], c.want[k])
				}
				sum += b.Buckets[k]
			}
			if b.Unattributed != c.unattributed {
				t.Errorf("unattributed = %s, want %s", b.Unattributed, c.unattributed)
			}
			if sum+b.Unattributed != b.Wall || b.Wall != at(c.to).Sub(at(c.from)) {
				t.Errorf("buckets %s + unattributed %s != wall %s", sum, b.Unattributed, b.Wall)
			}
		})
	}
}

func TestRecorder(t *testing.T) {
	now := at(0)
	r := NewRecorder()
	r.now = func() time.Time { return now }
	ctx := WithRecorder(context.Background(), r)
	end := Start(ctx, "outer", Harness)
	now = at(5)
	endInner := Start(ctx, "inner", Declared)
	now = at(7)
	endInner()
	now = at(9)
	endInner() // a second end changes nothing
	got := r.Phases()
	if len(got) != 2 || !got[1].To.Equal(at(7)) {
		t.Fatalf("phases %+v: want inner ended at 7s", got)
	}
	if !got[0].To.Equal(at(9)) {
		t.Errorf("an open phase ends now in Phases: got %s", got[0].To)
	}
	now = at(12)
	end()
	if got := r.Phases(); !got[0].To.Equal(at(12)) {
		t.Errorf("outer ended at %s, want 12s", got[0].To)
	}
	// Without a recorder nothing is recorded and nothing breaks.
	Start(context.Background(), "nowhere", Harness)()
	var nilRec *Recorder
	if nilRec.Phases() != nil {
		t.Error("a nil recorder has phases")
	}
}

func TestShare(t *testing.T) {
	b := Breakdown{Wall: sec(200)}
	if got := b.Share(sec(50)); got != 0.25 {
		t.Errorf("share = %v, want 0.25", got)
	}
	if got := (Breakdown{}).Share(sec(1)); got != 0 {
		t.Errorf("share of an empty span = %v, want 0", got)
	}
}

func TestWhole(t *testing.T) {
	b := Whole([]Phase{
		{Name: "drill", Bucket: Harness, From: at(10), To: at(40)},
		{Name: "up", Bucket: Cluster, From: at(0), To: at(5)},
	})
	if b.Wall != sec(40) || b.Unattributed != sec(5) || b.Buckets[Cluster] != sec(5) || b.Buckets[Harness] != sec(30) {
		t.Errorf("Whole = %+v: want 40s wall, 5s cluster, 30s harness, 5s unattributed", b)
	}
	if w := Whole(nil); w.Wall != 0 {
		t.Errorf("Whole(nil) wall %s", w.Wall)
	}
}

// Package timing says where a game day's time went. Code marks the phases it
// runs (a drill's baseline, its hold, the revert, loading images) with Start,
// each in one of four buckets; Attribute then gives every second of a span
// to exactly one bucket, the innermost phase's, so that the buckets add up to
// the wall time and the time no phase covered is shown as such.
//
// A Recorder travels in the context: code deep in a fault or a provider
// marks its phase without knowing who records, and without a recorder
// Start does nothing.
package timing

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Bucket is what a phase's time is spent on.
type Bucket string

// The buckets, in the order reports show them.
const (
	// Declared is waiting that a drill file or drill's defaults asked
	// for: holdFor, the for: windows of expected alerts, resolve windows,
	// the baseline and the settle.
	Declared Bucket = "declared waits"
	// Recovery is waiting for what the fault itself takes to heal: a node
	// rejoining, a member re-added, a restore running, a rollout after the
	// revert, the survivors taking over.
	Recovery Bucket = "cluster recovery"
	// Cluster is creating the cluster and distributing images to it.
	Cluster Bucket = "cluster and images"
	// Harness is everything else drill does: deploying, polling,
	// checking, reading back, judging.
	Harness Bucket = "harness overhead"
)

// Buckets lists every bucket in the order reports show them.
var Buckets = []Bucket{Declared, Recovery, Cluster, Harness}

// Phase is a stretch of time spent on one thing.
type Phase struct {
	Name   string    `json:"name"`
	Bucket Bucket    `json:"bucket"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
}

// Recorder collects phases. It is safe for concurrent use; a nil Recorder
// records nothing.
type Recorder struct {
	mu     sync.Mutex
	phases []Phase // an open phase has a zero To
	now    func() time.Time
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{now: time.Now}
}

// Start begins a phase and returns the function that ends it; calling that
// more than once ends it once.
func (r *Recorder) Start(name string, b Bucket) (end func()) {
	if r == nil {
		return func() {}
	}
	r.mu.Lock()
	i := len(r.phases)
	r.phases = append(r.phases, Phase{Name: name, Bucket: b, From: r.now()})
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.phases[i].To.IsZero() {
			r.phases[i].To = r.now()
		}
	}
}

// Phases returns every phase recorded, in the order they started; a phase
// still open ends now.
func (r *Recorder) Phases() []Phase {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.phases)
	now := r.now()
	for i := range out {
		if out[i].To.IsZero() {
			out[i].To = now
		}
	}
	return out
}

type ctxKey struct{}

// WithRecorder returns ctx carrying r.
func WithRecorder(ctx context.Context, r *Recorder) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// FromContext returns the Recorder ctx carries, nil without one.
func FromContext(ctx context.Context) *Recorder {
	r, _ := ctx.Value(ctxKey{}).(*Recorder)
	return r
}

// Start begins a phase on the Recorder ctx carries (see Recorder.Start); it
// does nothing without one.
func Start(ctx context.Context, name string, b Bucket) (end func()) {
	return FromContext(ctx).Start(name, b)
}

// Breakdown is a span of wall time given out to the buckets.
type Breakdown struct {
	From time.Time     `json:"from"`
	To   time.Time     `json:"to"`
	Wall time.Duration `json:"wall"`
	// Buckets holds the time of each bucket that had any.
	Buckets map[Bucket]time.Duration `json:"buckets"`
	// Unattributed is the time no phase covered.
	Unattributed time.Duration `json:"unattributed"`
}

// Share is d as a fraction of the wall time, 0 for an empty span.
func (b Breakdown) Share(d time.Duration) float64 {
	if b.Wall <= 0 {
		return 0
	}
	return float64(d) / float64(b.Wall)
}

// Attribute gives every instant of [from, to) to the bucket of the
// innermost phase covering it: the one that started last (of two starting
// together, the later in phases). Phases are clipped to the span; the
// buckets and Unattributed add up to the wall time exactly.
func Attribute(phases []Phase, from, to time.Time) Breakdown {
	b := Breakdown{From: from, To: to, Buckets: map[Bucket]time.Duration{}}
	if !to.After(from) {
		return b
	}
	b.Wall = to.Sub(from)
	// Cut the span at every phase edge; between two cuts the set of
	// covering phases does not change.
	cuts := []time.Time{from, to}
	for _, p := range phases {
		for _, t := range []time.Time{p.From, p.To} {
			if t.After(from) && t.Before(to) {
				cuts = append(cuts, t)
			}
		}
	}
	slices.SortFunc(cuts, func(a, b time.Time) int { return a.Compare(b) })
	cuts = slices.CompactFunc(cuts, func(a, b time.Time) bool { return a.Equal(b) })
	for i := 0; i+1 < len(cuts); i++ {
		lo, hi := cuts[i], cuts[i+1]
		inner := -1
		for j, p := range phases {
			if p.From.After(lo) || !p.To.After(lo) {
				continue // does not cover [lo, hi)
			}
			if inner < 0 || !p.From.Before(phases[inner].From) {
				inner = j
			}
		}
		if inner < 0 {
			b.Unattributed += hi.Sub(lo)
		} else {
			b.Buckets[phases[inner].Bucket] += hi.Sub(lo)
		}
	}
	return b
}

// Whole attributes the span from the earliest phase's start to the latest
// phase's end (see Attribute).
func Whole(phases []Phase) Breakdown {
	var from, to time.Time
	for i, p := range phases {
		if i == 0 || p.From.Before(from) {
			from = p.From
		}
		if i == 0 || p.To.After(to) {
			to = p.To
		}
	}
	return Attribute(phases, from, to)
}

package objectives

import (
	"slices"
	"time"
)

// Write is one write of a write log: a writer numbers its writes and notes
// when the system under test acknowledged each one. Only acknowledged writes
// belong in the log; a write that failed or timed out promised nothing.
type Write struct {
	// Seq identifies the write; the writer issues them in increasing order.
	Seq int64 `json:"seq"`
	// Acked is when the write was acknowledged.
	Acked time.Time `json:"acked"`
}

// DataLoss is what a disaster cost a write log.
type DataLoss struct {
	// Acknowledged counts the acknowledged writes in the log.
	Acknowledged int `json:"acknowledged"`
	// LostCount is len(Lost).
	LostCount int `json:"lostCount"`
	// Lost lists, ascending, the acknowledged writes that were not read back,
	// whenever they were acknowledged: before the disaster, or after it
	// (a write accepted by a node that was then rolled back).
	Lost []int64 `json:"lost,omitempty"`
	// Unacknowledged counts writes read back that the log does not hold:
	// writes in flight at the disaster that landed although their
	// acknowledgement did not. They are not lost, and not promised either.
	Unacknowledged int `json:"unacknowledged"`

	// LastAcked is the write acknowledged last at or before the disaster
	// (zero if none was).
	LastAcked Write `json:"lastAcked"`
	// NewestSurviving is the write acknowledged last at or before the
	// disaster among those read back (zero if none was read back).
	NewestSurviving Write `json:"newestSurviving"`
	// Window is the "seconds of data lost", the measured RPO:
	// LastAcked.Acked − NewestSurviving.Acked, the span of acknowledged time
	// before the disaster whose newest writes are gone. It is 0 when the last
	// write acknowledged before the disaster survived, even if older writes
	// were lost (a hole, which Lost shows), and when no write was
	// acknowledged before the disaster. See NoneSurvived.
	Window time.Duration `json:"window"`
	// NoneSurvived says that writes were acknowledged before the disaster and
	// none of them was read back. Window then runs from the first of them to
	// the last, and is a lower bound: the data before the log began may be
	// lost too.
	NoneSurvived bool `json:"noneSurvived,omitempty"`
}

// RPO compares a write log with what was read back after a disaster at
// disaster. acked is the log of acknowledged writes, in any order; readBack
// holds the sequence numbers found afterwards, in any order. "Before the
// disaster" means acknowledged at or before disaster. Among writes
// acknowledged at the same time, the higher Seq counts as newer. A Seq that
// appears twice in acked counts once, with its first Acked.
func RPO(disaster time.Time, acked []Write, readBack []int64) DataLoss {
	found := make(map[int64]bool, len(readBack))
	for _, s := range readBack {
		found[s] = true
	}
	inLog := make(map[int64]bool, len(acked))
	var (
		d           DataLoss
		firstBefore Write
	)
	for _, w := range acked {
		if inLog[w.Seq] {
			continue
		}
		inLog[w.Seq] = true
		d.Acknowledged++
		if !found[w.Seq] {
			d.Lost = append(d.Lost, w.Seq)
		}
		if w.Acked.After(disaster) {
			continue
		}
		if firstBefore.Acked.IsZero() || newer(firstBefore, w) {
			firstBefore = w
		}
		if d.LastAcked.Acked.IsZero() || newer(w, d.LastAcked) {
			d.LastAcked = w
		}
		if found[w.Seq] && (d.NewestSurviving.Acked.IsZero() || newer(w, d.NewestSurviving)) {
			d.NewestSurviving = w
		}
	}
	for s := range found {
		if !inLog[s] {
			d.Unacknowledged++
		}
	}
	slices.Sort(d.Lost)
	d.LostCount = len(d.Lost)

	switch {
	case d.LastAcked.Acked.IsZero():
		// nothing was acknowledged before the disaster: nothing to lose
	case d.NewestSurviving.Acked.IsZero():
		d.NoneSurvived = true
		d.Window = d.LastAcked.Acked.Sub(firstBefore.Acked)
	default:
		d.Window = d.LastAcked.Acked.Sub(d.NewestSurviving.Acked)
	}
	return d
}

// newer says whether a was acknowledged after b, breaking ties by Seq.
func newer(a, b Write) bool {
	if c := a.Acked.Compare(b.Acked); c != 0 {
		return c > 0
	}
	return a.Seq > b.Seq
}

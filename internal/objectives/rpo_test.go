package objectives

import (
	"slices"
	"testing"
	"time"
)

// log100 is a writer that wrote seq 1..n, acknowledged every 100 ms from
// t0+100ms: seq k at k/10 s.
func log100(n int) []Write {
	var ws []Write
	for k := 1; k <= n; k++ {
		ws = append(ws, Write{Seq: int64(k), Acked: at(float64(k) / 10)})
	}
	return ws
}

func seqs(from, to int64) []int64 {
	var s []int64
	for k := from; k <= to; k++ {
		s = append(s, k)
	}
	return s
}

func TestRPO(t *testing.T) {
	const disaster = 5.05 // s after t0: writes 1..50 were acknowledged before
	w := func(seq int64) Write { return Write{Seq: seq, Acked: at(float64(seq) / 10)} }
	tests := []struct {
		name     string
		acked    []Write
		readBack []int64
		want     DataLoss
	}{
		{
			name:     "empty log",
			readBack: nil,
			want:     DataLoss{},
		},
		{
			name:     "nothing lost",
			acked:    log100(50),
			readBack: seqs(1, 50),
			want:     DataLoss{Acknowledged: 50, LastAcked: w(50), NewestSurviving: w(50)},
		},
		{
			name:     "the last 8 writes before the disaster lost",
			acked:    log100(50),
			readBack: seqs(1, 42),
			want: DataLoss{Acknowledged: 50, LostCount: 8, Lost: seqs(43, 50),
				LastAcked: w(50), NewestSurviving: w(42), Window: 800 * time.Millisecond},
		},
		{
			name:     "a hole: last write survived, an older one did not",
			acked:    log100(50),
			readBack: append(seqs(1, 29), seqs(31, 50)...),
			want: DataLoss{Acknowledged: 50, LostCount: 1, Lost: []int64{30},
				LastAcked: w(50), NewestSurviving: w(50)},
		},
		{
			name:     "writes after the disaster: lost ones listed, window from before only",
			acked:    log100(70),
			readBack: append(seqs(1, 45), seqs(60, 70)...),
			want: DataLoss{Acknowledged: 70, LostCount: 14, Lost: seqs(46, 59),
				LastAcked: w(50), NewestSurviving: w(45), Window: 500 * time.Millisecond},
		},
		{
			name:     "nothing survived: window is the whole log before the disaster",
			acked:    log100(60),
			readBack: nil,
			want: DataLoss{Acknowledged: 60, LostCount: 60, Lost: seqs(1, 60),
				LastAcked: w(50), Window: 4900 * time.Millisecond, NoneSurvived: true},
		},
		{
			name:     "nothing acknowledged before the disaster",
			acked:    []Write{w(60), w(61)},
			readBack: []int64{61},
			want:     DataLoss{Acknowledged: 2, LostCount: 1, Lost: []int64{60}},
		},
		{
			name:     "unacknowledged writes that landed",
			acked:    log100(50),
			readBack: seqs(1, 52),
			want: DataLoss{Acknowledged: 50, Unacknowledged: 2,
				LastAcked: w(50), NewestSurviving: w(50)},
		},
		{
			name: "concurrent writers: acks out of seq order, newest by ack time",
			acked: []Write{
				{Seq: 1, Acked: at(1)}, {Seq: 3, Acked: at(2)}, {Seq: 2, Acked: at(3)}, {Seq: 4, Acked: at(4)},
			},
			readBack: []int64{1, 3},
			want: DataLoss{Acknowledged: 4, LostCount: 2, Lost: []int64{2, 4},
				LastAcked: Write{Seq: 4, Acked: at(4)}, NewestSurviving: Write{Seq: 3, Acked: at(2)}, Window: 2 * time.Second},
		},
		{
			name:     "acknowledged exactly at the disaster counts as before",
			acked:    []Write{{Seq: 1, Acked: at(1)}, {Seq: 2, Acked: at(disaster)}},
			readBack: []int64{1},
			want: DataLoss{Acknowledged: 2, LostCount: 1, Lost: []int64{2},
				LastAcked: Write{Seq: 2, Acked: at(disaster)}, NewestSurviving: Write{Seq: 1, Acked: at(1)}, Window: sec(disaster - 1)},
		},
		{
			name:     "same ack time: higher seq is newer",
			acked:    []Write{{Seq: 2, Acked: at(1)}, {Seq: 1, Acked: at(1)}},
			readBack: []int64{1},
			want: DataLoss{Acknowledged: 2, LostCount: 1, Lost: []int64{2},
				LastAcked: Write{Seq: 2, Acked: at(1)}, NewestSurviving: Write{Seq: 1, Acked: at(1)}},
		},
		{
			name:     "duplicate seq counts once",
			acked:    []Write{w(1), w(2), w(2)},
			readBack: []int64{1, 2},
			want:     DataLoss{Acknowledged: 2, LastAcked: w(2), NewestSurviving: w(2)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RPO(at(disaster), tt.acked, tt.readBack)
			if !equalLoss(got, tt.want) {
				t.Errorf("RPO =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func equalLoss(a, b DataLoss) bool {
	return a.Acknowledged == b.Acknowledged && a.LostCount == b.LostCount && slices.Equal(a.Lost, b.Lost) &&
		a.Unacknowledged == b.Unacknowledged && a.LastAcked == b.LastAcked &&
		a.NewestSurviving == b.NewestSurviving && a.Window == b.Window && a.NoneSurvived == b.NoneSurvived
}

// newer orders writes by acknowledgement, then by sequence number, and is
// strict: a write is not newer than itself, so that of two equal candidates
// the first one found is kept.
func TestNewerIsStrict(t *testing.T) {
	a := Write{Seq: 7, Acked: at(1)}
	for _, tt := range []struct {
		a, b Write
		want bool
	}{
		{a, a, false},
		{Write{Seq: 8, Acked: at(1)}, a, true},
		{a, Write{Seq: 8, Acked: at(1)}, false},
		{Write{Seq: 1, Acked: at(2)}, a, true},
	} {
		if got := newer(tt.a, tt.b); got != tt.want {
			t.Errorf("newer(%+v, %+v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

package velero

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/drill-sre/drill/internal/cluster"
)

func TestWaitForQuotesTheLastState(t *testing.T) {
	var out bytes.Buffer
	v := &Velero{Logger: cluster.NewWriterLogger(&out, 0), Interval: time.Millisecond}
	n := 0
	err := v.waitFor(t.Context(), 30*time.Millisecond, "the thing", func(ctx context.Context) (bool, string, error) {
		n++
		if n == 1 {
			return false, "half done", nil
		}
		<-ctx.Done() // a read that meets the deadline
		return false, ctx.Err().Error(), nil
	})
	if err == nil || !strings.Contains(err.Error(), "waiting 30ms for the thing") || !strings.Contains(err.Error(), "(last seen: half done)") {
		t.Errorf("got %v, want a timeout quoting the last state, not the deadline", err)
	}
	if got := out.String(); got != "the thing: half done\n" {
		t.Errorf("logged %q, want each new state once", got)
	}

	stop := errors.New("refused")
	err = v.waitFor(t.Context(), time.Second, "the thing", func(context.Context) (bool, string, error) { return false, "", stop })
	if err != stop {
		t.Errorf("got %v, want cond's error as is", err)
	}
	if err := v.waitFor(t.Context(), time.Second, "the thing", func(context.Context) (bool, string, error) { return true, "", nil }); err != nil {
		t.Errorf("done at once: %v", err)
	}
}

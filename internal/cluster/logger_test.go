package cluster

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestStampWriterPrefixesTheSecondsSinceStart(t *testing.T) {
	var out bytes.Buffer
	w := &StampWriter{Start: time.Now().Add(-1500 * time.Millisecond), W: &out}
	if _, err := w.Write([]byte("step\n")); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.HasPrefix(got, "[    1.5s] step") {
		t.Errorf("wrote %q", got)
	}
}

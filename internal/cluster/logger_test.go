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

// The suites' logger prints no credential that a message carries.
func TestWriterLoggerRedacts(t *testing.T) {
	var out bytes.Buffer
	l := NewWriterLogger(&out, 1)
	l.Errorf("GET %s: 401", "https://user:pass@example.invalid/x")
	l.V(1).Infof("sent Authorization: Bearer %s", "abcDEF0123456789")
	l.Warn("password=hunter2")
	got := out.String()
	for _, leak := range []string{"user:pass", "abcDEF0123456789", "hunter2"} {
		if strings.Contains(got, leak) {
			t.Errorf("logged %q:\n%s", leak, got)
		}
	}
	if !strings.Contains(got, "https://REDACTED@example.invalid/x") {
		t.Errorf("the URL's host is gone too:\n%s", got)
	}
}

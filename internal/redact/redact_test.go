package redact

import (
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/kind/pkg/log"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// Redacted.
		{"url user and password", "GET https://user:pass@example.invalid/x failed", "GET https://REDACTED@example.invalid/x failed"},
		{"url user only", "s3://AKIAEXAMPLE@bucket/path", "s3://REDACTED@bucket/path"},
		{"url in quotes", `Get "http://admin:s3cr3t@10.0.0.1:9000/readyz": EOF`, `Get "http://REDACTED@10.0.0.1:9000/readyz": EOF`},
		{"two urls", "https://a:b@h1/ and https://c:d@h2/", "https://REDACTED@h1/ and https://REDACTED@h2/"},
		{"authorization header", "Authorization: Bearer eyJhbGciOi.J9.abc", "Authorization: REDACTED"},
		{"authorization basic", "authorization=Basic dXNlcjpwYXNz", "authorization=REDACTED"},
		{"bearer in text", "sent with bearer 0123456789abcdef", "sent with bearer REDACTED"},
		{"Bearer jwt", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", "Bearer REDACTED"},
		{"aws access key id", "key id AKIAIOSFODNN7EXAMPLE used", "key id REDACTED used"},
		{"aws secret pair", "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key=REDACTED"},
		{"aws key id pair", "aws_access_key_id = drill1234", "aws_access_key_id = REDACTED"},
		{"query token", "https://h/x?token=abc&page=2", "https://h/x?token=REDACTED&page=2"},
		{"query key", "https://h/x?key=abc", "https://h/x?key=REDACTED"},
		{"query secret and password", "?secret=s&password=p", "?secret=REDACTED&password=REDACTED"},
		{"password colon digit", "password: hunter2", "password: REDACTED"},
		{"quoted json value", `{"password": "correct horse"}`, `{"password": "REDACTED"}`},
		{"camel access key", "accessKey: drill-8f3a", "accessKey: REDACTED"},
		{"api key header", "X-Api-Key: 1234abcd", "X-Api-Key: REDACTED"},
		{"client secret", "client_secret=abc", "client_secret=REDACTED"},
		{"env style", "AWS_SECRET_ACCESS_KEY=xyz", "AWS_SECRET_ACCESS_KEY=REDACTED"},
		{"long value after colon", "token: abcdefghijklmnopqrstuvwxyz", "token: REDACTED"},
		// Near misses, kept.
		{"plain url", "GET https://example.invalid/x?page=2 failed", ""},
		{"url with @ in path", "https://example.invalid/users/@me", ""},
		{"email without scheme", "mail ops@example.invalid about it", ""},
		{"user@host without scheme", "ssh root@10.0.0.2 failed", ""},
		{"plural tokens", "tokens: 3", ""},
		{"word ending in key", "monkey: banana1", ""},
		{"sort key", "sort_key=name", ""},
		{"label key", "labelKey=app", ""},
		{"word ending in token", "detoken=3", ""},
		{"secret not found", "secret: not found", ""},
		{"secret name", "create secret drill-s3/creds: forbidden", ""},
		{"bearer prose", "the bearer of bad news", ""},
		{"bearer word", "bearer authentication failed", ""},
		{"already redacted", "https://REDACTED@h/ token=REDACTED", ""},
		{"alert label", "alertname: KubernetesAPIDown, severity: critical", ""},
		{"duration", "objectives.rto.api: 20s", ""},
		{"drill's own hint", "carry a token: set DRILL_WEBHOOK_TOKEN (http_config.authorization.credentials)", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == "" {
				want = tt.in
			}
			if got := String(tt.in); got != want {
				t.Errorf("String(%q)\n got %q\nwant %q", tt.in, got, want)
			}
			if got := String(want); got != want {
				t.Errorf("not idempotent: String(%q) = %q", want, got)
			}
		})
	}
}

type inner struct {
	Msg    string
	Labels map[string]string
}

type outer struct {
	Name   string
	List   []string
	Ptr    *inner
	Inners []inner
	Any    any
	n      string
	Num    float64
}

// Value redacts every string of a value, deeply, and leaves the original
// as it was.
func TestValue(t *testing.T) {
	secret := "https://user:pass@example.invalid/x"
	in := outer{
		Name:   secret,
		List:   []string{"ok", secret},
		Ptr:    &inner{Msg: secret, Labels: map[string]string{"url": secret}},
		Inners: []inner{{Msg: "Authorization: Bearer abcdef123456"}},
		Any:    secret,
		n:      "kept",
		Num:    1.5,
	}
	out := Value(in)
	for _, s := range []string{out.Name, out.List[1], out.Ptr.Msg, out.Ptr.Labels["url"], out.Inners[0].Msg, out.Any.(string)} {
		if strings.Contains(s, "pass") || strings.Contains(s, "abcdef123456") {
			t.Errorf("not redacted: %q", s)
		}
	}
	if out.n != "kept" || out.Num != 1.5 || out.List[0] != "ok" {
		t.Errorf("other fields changed: %+v", out)
	}
	if in.Name != secret || in.List[1] != secret || in.Ptr.Msg != secret || in.Ptr.Labels["url"] != secret {
		t.Errorf("original changed: %+v", in)
	}
}

// The logger redacts what it prints at every level.
func TestLogger(t *testing.T) {
	var got []string
	l := Logger(recorder{&got})
	l.Warnf("a %s", "https://u:p@h/")
	l.Error("Authorization: Bearer abcdef123456")
	l.V(0).Infof("token=%s", "xyz")
	l.V(0).Info("password=hunter2")
	for _, s := range got {
		if strings.Contains(s, "u:p") || strings.Contains(s, "abcdef123456") || strings.Contains(s, "xyz") || strings.Contains(s, "hunter2") {
			t.Errorf("not redacted: %q", s)
		}
	}
	if len(got) != 4 {
		t.Errorf("printed %d messages, want 4: %q", len(got), got)
	}
	if u, ok := l.(interface{ Unwrap() log.Logger }); !ok || u.Unwrap() != (recorder{&got}) {
		t.Errorf("Unwrap does not return the wrapped logger")
	}
}

type recorder struct{ out *[]string }

func (r recorder) Warn(m string)              { *r.out = append(*r.out, m) }
func (r recorder) Warnf(f string, a ...any)   { r.Warn(fmt.Sprintf(f, a...)) }
func (r recorder) Error(m string)             { r.Warn(m) }
func (r recorder) Errorf(f string, a ...any)  { r.Warnf(f, a...) }
func (r recorder) V(log.Level) log.InfoLogger { return r }
func (r recorder) Info(m string)              { r.Warn(m) }
func (r recorder) Infof(f string, a ...any)   { r.Warnf(f, a...) }
func (r recorder) Enabled() bool              { return true }

//go:build browser

package pagecheck_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drill-sre/drill/internal/pagecheck"
)

// browser starts Chromium for one test. The tests fail, never skip, when
// it is missing: setup installs it.
func browser(t *testing.T) (*pagecheck.Browser, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	b, err := pagecheck.Start(ctx, os.Getenv("DRILL_CHROMIUM"))
	if err != nil {
		t.Fatalf("Chromium is needed for this test: %v", err)
	}
	t.Cleanup(b.Close)
	return b, ctx
}

// The checker sees what it exists to see: a console error, an uncaught
// exception, a request leaving the page, a page wider than a phone, and the
// load event.
func TestCheckerSeesWhatIsWrong(t *testing.T) {
	b, ctx := browser(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.html")
	if err := os.WriteFile(bad, []byte(`<!DOCTYPE html><html><head>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="http://127.0.0.1:9/missing.css"></head>
<body><div style="width:2000px">wide</div>
<script>console.error("drawn wrong"); null.boom;</script></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := b.Open(ctx, "file://"+bad, pagecheck.Phone)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	joined := strings.Join(p.Errors, "\n")
	for _, want := range []string{"drawn wrong", "exception"} {
		if !strings.Contains(joined, want) {
			t.Errorf("errors %q: want one with %q", p.Errors, want)
		}
	}
	if out := p.Outside(); len(out) != 1 || out[0] != "http://127.0.0.1:9/missing.css" {
		t.Errorf("requests outside the page: %q, want the stylesheet", out)
	}
	if p.ScrollWidth <= p.ViewportWidth {
		t.Errorf("a 2000 px page measured %d px wide in a %d px window", p.ScrollWidth, p.ViewportWidth)
	}
	if p.LoadEvent <= 0 {
		t.Errorf("load event at %v", p.LoadEvent)
	}

	good := filepath.Join(dir, "good.html")
	if err := os.WriteFile(good, []byte(`<!DOCTYPE html><html><head>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><p>fine</p><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := b.Open(ctx, "file://"+good, pagecheck.Phone)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if len(g.Errors) != 0 || len(g.Outside()) != 0 || g.ScrollWidth > g.ViewportWidth {
		t.Errorf("a plain page: errors %q, outside %q, %d px in %d px", g.Errors, g.Outside(), g.ScrollWidth, g.ViewportWidth)
	}
}

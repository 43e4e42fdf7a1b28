// Package pagecheck opens drill's pages (report.html, the history site) in a
// headless Chromium driven over the DevTools protocol (chromedp), and says
// what a reader's browser saw: errors in the console, every request the page
// made, when its load event came, whether it fits a phone's width, and
// screenshots. It is for tests: the browser test of the pages uses it.
package pagecheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Chromiums are the commands a Chromium goes by, Debian's first.
var Chromiums = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Browser is one headless Chromium; each Open is a new tab of it.
type Browser struct {
	ctx    context.Context
	cancel func()
}

// Start starts a headless Chromium from execPath, or from the first of
// Chromiums in PATH when execPath is "". It runs without the sandbox,
// which root needs, and with nothing of a user profile. Close stops it.
func Start(ctx context.Context, execPath string) (*Browser, error) {
	var path string
	var err error
	if execPath != "" {
		path, err = exec.LookPath(execPath)
	} else {
		for _, c := range Chromiums {
			if path, err = exec.LookPath(c); err == nil {
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("start chromium: %w (hack/chromium-setup.sh finds one or installs Debian's chromium; DRILL_CHROMIUM names one)", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	// The first Run starts the browser; it lives as long as bctx.
	if err := chromedp.Do(bctx); err != nil {
		bcancel()
		acancel()
		return nil, fmt.Errorf("start chromium %s: %w", path, err)
	}
	return &Browser{ctx: bctx, cancel: func() { bcancel(); acancel() }}, nil
}

// Close stops the browser.
func (b *Browser) Close() { b.cancel() }

// Viewport is the size of the tab's window, in CSS pixels; Mobile emulates
// a phone (its viewport meta tag honoured, touch).
type Viewport struct {
	Width, Height int64
	Mobile        bool
}

// Desktop and Phone are the viewports pages are checked at: a laptop's
// window, and an iPhone's 390 CSS pixels.
var (
	Desktop = Viewport{Width: 1280, Height: 900}
	Phone   = Viewport{Width: 390, Height: 844, Mobile: true}
)

// Page is a page loaded in a tab of its own, with the browser's cache off.
type Page struct {
	URL string
	// Errors are the console's errors and warnings of level error, uncaught
	// exceptions, and the browser's own log entries of level error (a
	// resource that failed to load, a blocked request), in order.
	Errors []string
	// Requests are the URLs of every request the page made, in order, the
	// page's own first.
	Requests []string
	// LoadEvent is the time from the navigation's start to the load
	// event's, as the page's Navigation Timing recorded it.
	LoadEvent time.Duration
	// ScrollWidth is the document's width, ViewportWidth the window's: a
	// page wider than its window scrolls sideways.
	ScrollWidth, ViewportWidth int64

	ctx    context.Context
	cancel func()
}

// Open loads url in a new tab at viewport v, with the cache disabled, and
// waits for its load event. Close the page when done.
func (b *Browser) Open(ctx context.Context, url string, v Viewport) (*Page, error) {
	tctx, tcancel := chromedp.NewContext(b.ctx)
	stop := context.AfterFunc(ctx, tcancel)
	p := &Page{URL: url, ctx: tctx, cancel: func() { stop(); tcancel() }}
	var mu sync.Mutex
	var errs, reqs []string
	if err := chromedp.Listen(tctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				errs = append(errs, "console."+string(ev.Type)+": "+consoleArgs(ev.Args))
			}
		case *runtime.EventExceptionThrown:
			errs = append(errs, "exception: "+(&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
		case *cdplog.EventEntryAdded:
			if ev.Entry != nil && ev.Entry.Level == cdplog.EntryLevelError {
				errs = append(errs, fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *network.EventRequestWillBeSent:
			if ev.Request != nil {
				reqs = append(reqs, ev.Request.URL)
			}
		}
	}); err != nil {
		p.Close()
		return nil, fmt.Errorf("open %s: %w", url, err)
	}
	opts := []chromedp.EmulateViewportOption{}
	if v.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	_, err := chromedp.Call(tctx, network.Enable, network.EnableParams{})
	if err == nil {
		_, err = chromedp.Call(tctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
	}
	if err == nil {
		_, err = chromedp.Call(tctx, cdplog.Enable, cdp.Empty{})
	}
	if err == nil {
		err = chromedp.Do(tctx, chromedp.EmulateViewport(v.Width, v.Height, opts...), chromedp.Navigate(url))
	}
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("open %s: %w", url, err)
	}
	var m struct {
		Load          float64 `json:"load"`
		ScrollWidth   int64   `json:"scrollWidth"`
		ViewportWidth int64   `json:"viewportWidth"`
	}
	// Navigate returns once the load event fired; loadEventStart is then
	// set (0 would mean it had not).
	if err := p.Eval(`(() => {
  const n = performance.getEntriesByType("navigation")[0];
  return {load: n ? n.loadEventStart : 0,
          scrollWidth: document.documentElement.scrollWidth,
          viewportWidth: window.innerWidth};
})()`, &m); err != nil {
		p.Close()
		return nil, err
	}
	if m.Load <= 0 {
		p.Close()
		return nil, fmt.Errorf("open %s: the page recorded no load event", url)
	}
	p.LoadEvent = time.Duration(m.Load * float64(time.Millisecond))
	p.ScrollWidth, p.ViewportWidth = m.ScrollWidth, m.ViewportWidth
	mu.Lock()
	p.Errors, p.Requests = errs, reqs
	mu.Unlock()
	return p, nil
}

// Eval evaluates a JavaScript expression in the page and decodes its value,
// passed as JSON, into out.
func (p *Page) Eval(expr string, out any) error {
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		return fmt.Errorf("evaluate in %s: %w", p.URL, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("evaluate in %s: decode %s: %w", p.URL, abbrev(string(raw)), err)
	}
	return nil
}

// Screenshot saves a PNG of the whole page, beyond the window, to path.
func (p *Page) Screenshot(path string) error {
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("screenshot of %s: %w", p.URL, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Errorf("screenshot of %s: %w", p.URL, err)
	}
	return nil
}

// ScreenshotOf saves a PNG of the first element matching the CSS selector
// css, scrolled into view, to path.
func (p *Page) ScreenshotOf(css, path string) error {
	png, err := chromedp.Run(p.ctx, chromedp.Screenshot(chromedp.CSS(css)))
	if err != nil {
		return fmt.Errorf("screenshot of %s in %s: %w", css, p.URL, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Errorf("screenshot of %s in %s: %w", css, p.URL, err)
	}
	return nil
}

// PDF prints the page as a printer would (print styles applied) and saves
// it to path.
func (p *Page) PDF(path string) error {
	pdf, err := chromedp.Run(p.ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
	if err != nil {
		return fmt.Errorf("print %s: %w", p.URL, err)
	}
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		return fmt.Errorf("print %s: %w", p.URL, err)
	}
	return nil
}

// Outside returns the requests the page made beyond loading itself: any
// URL but its own (a data: URL is inside the page).
func (p *Page) Outside() []string {
	var out []string
	for _, r := range p.Requests {
		if sameURL(r, p.URL) || strings.HasPrefix(r, "data:") {
			continue
		}
		out = append(out, r)
	}
	return out
}

// sameURL says whether a and b name the same resource once
// percent-decoded: Chromium requests a file:// URL with its path encoded.
func sameURL(a, b string) bool {
	da, errA := url.PathUnescape(a)
	db, errB := url.PathUnescape(b)
	return a == b || errA == nil && errB == nil && da == db
}

// Close closes the page's tab.
func (p *Page) Close() { p.cancel() }

// consoleArgs joins a console call's arguments as the console shows them.
func consoleArgs(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

// abbrev shortens s for an error message.
func abbrev(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

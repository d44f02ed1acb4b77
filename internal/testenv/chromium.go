package testenv

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPaths are where Debian and others put a Chromium binary;
// $TANGO_CHROMIUM, when set, comes first.
var chromiumPaths = []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium", "chromium-browser", "google-chrome"}

// Chromium finds a Chromium (scripts/test-deps.sh installs Debian's):
// the test is skipped without it, or fails under CI=true.
func Chromium(t testing.TB) string {
	t.Helper()
	paths := chromiumPaths
	if p := os.Getenv("TANGO_CHROMIUM"); p != "" {
		paths = append([]string{p}, paths...)
	}
	for _, p := range paths {
		if full, err := exec.LookPath(p); err == nil {
			return full
		}
	}
	Missing(t, "chromium", "run scripts/test-deps.sh (apt-get install chromium) or set TANGO_CHROMIUM")
	return ""
}

// Browser starts a headless Chromium with a fresh profile, sandboxed from
// the network's background services, and returns a tab's context, which
// ends (and the browser with it) when the test ends or after timeout.
func Browser(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	path := Chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	if err := chromedp.Do(bctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
		t.Fatalf("testenv: starting %s: %v", path, err)
	}
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	return bctx
}

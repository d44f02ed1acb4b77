package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/testenv"
)

// screens is where the browser tests write their screenshots:
// $TANGO_ARTIFACTS/screens, else a temporary directory; each is also
// copied to /tmp/tango-screens for a person to look at.
func screens(t *testing.T) string {
	dir := t.TempDir()
	if a := os.Getenv("TANGO_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "screens")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s (and /tmp/tango-screens)", dir)
	return dir
}

// browser is a headless Chromium signed in (by the stub session cookie)
// as one person at a time.
type browser struct {
	t   *testing.T
	ctx context.Context
	f   *fixture
	dir string
}

func newBrowser(t *testing.T, f *fixture) *browser {
	return &browser{t: t, ctx: testenv.Browser(t, 90*time.Second), f: f, dir: screens(t)}
}

func (b *browser) signIn(person string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, network.SetCookie, network.SetCookieParams{Name: "tango_test", Value: person, URL: b.f.url}); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// shot saves a full-page PNG.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	for _, dir := range []string{b.dir, "/tmp/tango-screens"} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

// The personas' days in a real browser: the employee's /me with the
// why-chain and a refused colleague's page; the manager completing a task
// from the case page; HR uploading, previewing and applying a snapshot.
// Scripts and styles load under the CSP (htmx runs, the stylesheet
// applies).
func TestBrowserPersonas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	f := newFixture(t)
	b := newBrowser(t, f)

	// Employee: /me.
	b.signIn(employee)
	b.do(chromedp.Navigate(f.url+"/me"), chromedp.WaitVisible(chromedp.ID("access-table")))
	if h := b.text("h1"); h != "What Tango holds about me" {
		t.Errorf("/me heading %q", h)
	}
	access := b.text("#access-table")
	for _, want := range []string{"erp", "reports", "role engineering", `person.department == "Eng"`} {
		if !strings.Contains(access, want) {
			t.Errorf("/me access lacks %q: %s", want, access)
		}
	}
	if attrs := b.text("#attributes"); !strings.Contains(attrs, "carol@example.com") || !strings.Contains(attrs, "HR source hris") {
		t.Errorf("/me attributes: %s", attrs)
	}
	kind, err := chromedp.Run(b.ctx, chromedp.Evaluate[string]("typeof htmx"))
	if err != nil || kind != "object" {
		t.Errorf("htmx under the CSP: typeof htmx = %q, %v", kind, err)
	}
	bg, err := chromedp.Run(b.ctx, chromedp.Evaluate[string]("getComputedStyle(document.querySelector('header.top')).backgroundColor"))
	if err != nil || bg != "rgb(29, 35, 48)" {
		t.Errorf("the stylesheet under the CSP: header background %q, %v", bg, err)
	}
	b.shot("employee-me")

	// Employee on a colleague's page: 403, audited.
	b.do(chromedp.Navigate(f.url+"/people/E005"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if h := b.text("h1"); h != "403 Forbidden" {
		t.Errorf("colleague's page heading %q", h)
	}
	b.shot("employee-403")
	es, err := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: "access.denied", Subject: "E005"})
	if err != nil || len(es) == 0 {
		t.Errorf("no access.denied entry about E005: %v", err)
	}

	// Manager: the inbox, then the case page.
	tk := f.caseTask(employee)
	b.signIn(manager)
	b.do(chromedp.Navigate(f.url+"/"), chromedp.WaitVisible(chromedp.ID("tasks")))
	if !strings.Contains(b.text("main"), "Welcome Carol Dev to the team") {
		t.Errorf("manager's inbox lacks the task")
	}
	b.shot("manager-inbox")
	b.do(chromedp.Navigate(fmt.Sprintf("%s/cases/%d", f.url, tk.Case)),
		chromedp.WaitVisible(chromedp.ID(fmt.Sprintf("evidence-%d", tk.ID))))
	b.shot("manager-case")
	// htmx posts the form and swaps the task's row in place: the evidence
	// field goes, the evidence shows.
	b.do(chromedp.SendKeys(chromedp.ID(fmt.Sprintf("evidence-%d", tk.ID)), "welcomed on day one"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf("#task-%d button", tk.ID))),
		chromedp.WaitNotPresent(chromedp.ID(fmt.Sprintf("evidence-%d", tk.ID))))
	if loc, err := chromedp.Run(b.ctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, fmt.Sprintf("/cases/%d", tk.Case)) {
		t.Errorf("after the htmx form the page is %q (%v), want the same case page", loc, err)
	}
	if got, err := f.st.CaseTask(context.Background(), tk.ID); err != nil || got.Status != store.TaskDone || got.Evidence != "welcomed on day one" {
		t.Errorf("task after the form: %+v %v", got, err)
	}
	if row := b.text(fmt.Sprintf("#task-%d", tk.ID)); !strings.Contains(row, "welcomed on day one") {
		t.Errorf("case board after completion: %s", row)
	}

	// HR: upload, preview, apply.
	snap := filepath.Join(t.TempDir(), "next.csv")
	if err := os.WriteFile(snap, []byte(firstSnapshot+"E009,Nia New,nia@example.com,Engineer,Eng,E002\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.signIn(hrPerson)
	b.do(chromedp.Navigate(f.url+"/imports"), chromedp.WaitVisible(chromedp.ID("file")))
	b.shot("hr-imports")
	b.do(chromedp.SetUploadFiles(chromedp.ID("file"), []string{snap}),
		chromedp.Submit(chromedp.ID("file")),
		chromedp.WaitVisible(chromedp.ID("verdict")))
	if v := b.text("#verdict"); !strings.Contains(v, "Dry run: 8 rows") {
		t.Errorf("preview verdict: %q", v)
	}
	if ch := b.text("#changes"); !strings.Contains(ch, "E009") || !strings.Contains(ch, "joiner") {
		t.Errorf("preview changes: %q", ch)
	}
	if _, err := f.st.Person(context.Background(), "hris", "E009"); err == nil {
		t.Fatal("the preview applied the snapshot")
	}
	b.shot("hr-preview")
	b.do(chromedp.Click(chromedp.ID("apply")), chromedp.WaitVisible(chromedp.ID("events")))
	if _, err := f.st.Person(context.Background(), "hris", "E009"); err != nil {
		t.Errorf("E009 after apply: %v", err)
	}
	if h := b.text("h1"); !strings.HasPrefix(h, "Import ") {
		t.Errorf("after apply: heading %q", h)
	}
	b.shot("hr-applied")
	b.do(chromedp.Navigate(f.url+"/teams"), chromedp.WaitVisible(chromedp.CSS("figure.chart svg")))
	b.shot("hr-teams")
}

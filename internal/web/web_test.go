package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/task"
	"github.com/tango-iga/tango/internal/web"
	"github.com/tango-iga/tango/internal/workflow"
)

// pageWant: who gets each page (200); every other persona gets 403.
var pageWant = map[string][]string{
	"/":             {"employee", "manager", "hr", "it", "security"},
	"/me":           {"employee", "manager", "hr", "it", "security"},
	"/people":       {"manager", "hr", "security"}, // a manager: their reports
	"/cases":        {"manager", "hr", "it", "security"},
	"/requests":     {"employee", "manager", "hr", "it", "security"},
	"/requests/new": {"employee", "manager", "hr", "it", "security"},
	"/imports":      {"hr"},
	"/apps":         {"it", "security"},
	"/findings":     {"it", "security"},
	"/audit":        {"security"},
	"/teams":        {"hr", "it", "security"},
	"/reviews":      {"security"},
}

var personas = map[string]string{"employee": employee, "manager": manager, "hr": hrPerson, "it": itPerson, "security": secPerson}

// Every GET page of the table is in the matrix; each persona gets 200
// where the permission (and record rule) lets them and 403 elsewhere, and
// every page keeps the page rules (CSP, title, h1, labels, no inline
// script).
func TestPagePermissions(t *testing.T) {
	f := newFixture(t)
	for _, pg := range web.Table {
		path := strings.TrimSuffix(pg.Path, "{$}")
		if pg.Method != "GET" || strings.Contains(path, "{") {
			continue
		}
		want, ok := pageWant[path]
		if !ok {
			t.Errorf("page %s is not in pageWant", path)
			continue
		}
		for name, id := range personas {
			p := f.get(path, id)
			wantStatus := 403
			if slices.Contains(want, name) {
				wantStatus = 200
			}
			if p.status != wantStatus {
				t.Errorf("%s as %s: %d, want %d\n%s", path, name, p.status, wantStatus, p.body)
				continue
			}
			checkPage(t, path+" as "+name, p)
		}
	}
	// A refusal is on the audit trail.
	es, err := f.st.AuditQuery(context.Background(), store.AuditFilter{Actor: "person:" + employee + " via session:test-" + employee, Action: "access.denied"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(es, func(e audit.Entry) bool { return strings.Contains(string(e.After), `"/imports"`) }) {
		t.Errorf("no access.denied entry for the employee's GET /imports: %v", es)
	}
}

// The employee's /me lists every attribute with its source and import,
// the access they hold with the role and its HR condition, and who read
// their data.
func TestMeShowsAttributesAccessWhyAndReaders(t *testing.T) {
	f := newFixture(t)
	if p := f.get("/people/"+employee, manager); p.status != 200 || !strings.Contains(p.body, "carol@example.com") {
		t.Fatalf("the manager reads their report: %d\n%s", p.status, p.body)
	}
	p := f.get("/me", employee)
	if p.status != 200 {
		t.Fatalf("/me: %d %s", p.status, p.body)
	}
	checkPage(t, "/me", p)
	imps, _ := f.st.ImportsBy(context.Background(), store.ImportFilter{})
	for _, want := range []string{
		"carol@example.com", "HR source hris", "import <code>" + imps[0].ID + "</code>", // attribute, source, import
		"entitlement <strong>reports</strong>", "role <strong>engineering</strong>", "<code>person.department == &#34;Eng&#34;</code>", // the why
		"Who read my data", "person:" + manager + " via session:test-" + manager, // the manager's read
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("/me lacks %q:\n%s", want, p.body)
		}
	}
	// Times are in the org's zone.
	if !strings.Contains(p.body, "CET") && !strings.Contains(p.body, "CEST") {
		t.Errorf("/me shows no time in Europe/Berlin:\n%s", p.body)
	}
}

// An employee opening someone else's page gets 403, and the refusal is
// audited with the person as subject; a manager gets their report, not a
// stranger.
func TestPersonPageRecordRule(t *testing.T) {
	f := newFixture(t)
	p := f.get("/people/E005", employee)
	if p.status != 403 || !strings.Contains(p.body, "may not see person E005") {
		t.Fatalf("employee on a colleague's page: %d\n%s", p.status, p.body)
	}
	checkPage(t, "403", p)
	if strings.Contains(p.body, "eve@example.com") {
		t.Error("the refusal shows the colleague's data")
	}
	es, err := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: "access.denied", Subject: "E005"})
	if err != nil || len(es) != 1 || !strings.HasPrefix(es[0].Actor, "person:"+employee) {
		t.Fatalf("access.denied about E005: %v %v", es, err)
	}
	if p := f.get("/people/NOBODY", employee); p.status != 403 {
		t.Errorf("employee on a missing person: %d, want 403 (existence is personal data)", p.status)
	}
	if p := f.get("/people/E004", manager); p.status != 403 {
		t.Errorf("manager on someone not their report: %d", p.status)
	}
	if p := f.get("/people?q=dev", manager); p.status != 200 || !strings.Contains(p.body, "E005") || strings.Contains(p.body, "E004") {
		t.Errorf("manager's search lists only reports: %d\n%s", p.status, p.body)
	}
	if p := f.get("/people?q=people", hrPerson); p.status != 200 || !strings.Contains(p.body, "E004") || strings.Contains(p.body, "E003") {
		t.Errorf("HR searches by department: %d\n%s", p.status, p.body)
	}
	if p := f.get("/people?page=0", hrPerson); p.status != 400 {
		t.Errorf("page=0: %d, want 400", p.status)
	}
}

// The manager sees the task in the inbox and completes it from the case
// page; the person it is about may not; a form from another site is
// refused.
func TestManagerCompletesTaskFromCasePage(t *testing.T) {
	f := newFixture(t)
	tk := f.caseTask(employee)
	if inbox := f.get("/", manager); !strings.Contains(inbox.body, "Welcome Carol Dev to the team") {
		t.Fatalf("manager's inbox lacks the task:\n%s", inbox.body)
	}
	board := f.get(fmt.Sprintf("/cases/%d", tk.Case), manager)
	if board.status != 200 || !strings.Contains(board.body, fmt.Sprintf(`action="/tasks/%d/complete"`, tk.ID)) {
		t.Fatalf("case board: %d\n%s", board.status, board.body)
	}
	checkPage(t, "case board", board)
	form := url.Values{"evidence": {"met on day one"}}
	if p := f.post(fmt.Sprintf("/tasks/%d/complete", tk.ID), manager, form, "Sec-Fetch-Site", "cross-site"); p.status != 403 {
		t.Errorf("cross-site form: %d, want 403", p.status)
	}
	if p := f.post(fmt.Sprintf("/tasks/%d/complete", tk.ID), employee, form); p.status != 403 {
		t.Errorf("the person completes their own task: %d, want 403", p.status)
	}
	if p := f.post(fmt.Sprintf("/tasks/%d/complete", tk.ID), manager, url.Values{"evidence": {" "}}); p.status != 422 {
		t.Errorf("empty evidence: %d, want 422\n%s", p.status, p.body)
	}
	p := f.post(fmt.Sprintf("/tasks/%d/complete", tk.ID), manager, form, "Sec-Fetch-Site", "same-origin")
	if p.status != 303 || !strings.HasPrefix(p.header.Get("Location"), fmt.Sprintf("/cases/%d?done=", tk.Case)) {
		t.Fatalf("complete: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	if again := f.post(fmt.Sprintf("/tasks/%d/complete", tk.ID), manager, form, "HX-Request", "true"); again.status != 409 {
		t.Errorf("completing a done task again: %d, want 409", again.status)
	}
	got, err := f.st.CaseTask(context.Background(), tk.ID)
	if err != nil || got.Status != store.TaskDone || got.Evidence != "met on day one" || !strings.HasPrefix(got.CompletedBy, "person:"+manager) {
		t.Fatalf("task after completion: %+v %v", got, err)
	}
}

// A task escalated to someone is in their inbox, overdue first.
func TestInboxShowsEscalatedTasks(t *testing.T) {
	f := newFixture(t)
	tk := f.caseTask(employee)
	if p := f.get("/", "E001"); strings.Contains(p.body, "Welcome Carol Dev") {
		t.Fatalf("Alice sees the task before its escalation:\n%s", p.body)
	}
	if _, err := workflow.EscalateTask(context.Background(), f.st, tk.ID, "E001", "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	p := f.get("/", "E001")
	if !strings.Contains(p.body, "Welcome Carol Dev") || !strings.Contains(p.body, "escalated to you") {
		t.Fatalf("Alice's inbox after the escalation:\n%s", p.body)
	}
}

// A step that needs a file takes it from the form: its name, SHA-256
// and size are the evidence.
func TestCompleteTaskWithFileEvidence(t *testing.T) {
	f := newFixture(t)
	tk := f.stepTask(employee, "contract")
	board := f.get(fmt.Sprintf("/cases/%d", tk.Case), hrPerson)
	if !strings.Contains(board.body, `enctype="multipart/form-data"`) || !strings.Contains(board.body, fmt.Sprintf(`id="file-%d" name="file" type="file"`, tk.ID)) {
		t.Fatalf("the board offers no file field:\n%s", board.body)
	}
	upload := func(content string) page {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", `C:\scans\contract.pdf`)
		_, _ = fw.Write([]byte(content))
		mw.Close()
		return f.do("POST", fmt.Sprintf("/tasks/%d/complete", tk.ID), hrPerson, &body, mw.FormDataContentType())
	}
	if p := upload(""); p.status != 422 {
		t.Errorf("an empty file: %d, want 422\n%s", p.status, p.body)
	}
	// A scan larger than the 1 MiB of other forms streams through.
	big := strings.Repeat("x", 3<<20)
	if p := upload(big); p.status != 303 {
		t.Fatalf("a 3 MiB file: %d\n%s", p.status, p.body)
	}
	bigSum := sha256.Sum256([]byte(big))
	if got, _ := f.st.CaseTask(context.Background(), tk.ID); got.Evidence != "file:contract.pdf sha256:"+hex.EncodeToString(bigSum[:])+" bytes:3145728" {
		t.Fatalf("evidence of the big file: %q", got.Evidence)
	}
}

// With htmx, completing a task answers the task's row alone, to swap in.
func TestCompleteTaskWithHtmxAnswersTheRow(t *testing.T) {
	f := newFixture(t)
	tk := f.caseTask(employee)
	p := f.post(fmt.Sprintf("/tasks/%d/complete", tk.ID), manager, url.Values{"evidence": {"done"}}, "HX-Request", "true")
	if p.status != 200 || !strings.HasPrefix(p.body, fmt.Sprintf(`<tr id="task-%d"`, tk.ID)) || strings.Contains(p.body, "<html") || !strings.Contains(p.body, "done") {
		t.Fatalf("htmx completion: %d\n%s", p.status, p.body)
	}
}

// HR uploads a snapshot, sees the preview (nothing written), applies it.
func TestImportPreviewThenApply(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	next := firstSnapshot + "E009,Nia New,nia@example.com,Engineer,Eng,E002\n"
	next = strings.Replace(next, "E005,Eve Dev,eve@example.com,Engineer,Eng,E002\n", "", 1)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("source", "hris")
	fw, _ := mw.CreateFormFile("file", "second.csv")
	_, _ = fw.Write([]byte(next))
	mw.Close()
	before, _ := f.st.ImportsBy(ctx, store.ImportFilter{})
	p := f.do("POST", "/imports/preview", hrPerson, &body, mw.FormDataContentType())
	if p.status != 200 {
		t.Fatalf("preview: %d\n%s", p.status, p.body)
	}
	checkPage(t, "preview", p)
	for _, want := range []string{"Dry run: 7 rows", "<td>E009</td><td>joiner</td>", "<td>E005</td><td>leaver</td>", `id="apply"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("preview lacks %q:\n%s", want, p.body)
		}
	}
	if after, _ := f.st.ImportsBy(ctx, store.ImportFilter{}); len(after) != len(before) {
		t.Fatalf("the preview wrote an import")
	}
	form := url.Values{}
	for _, name := range []string{"source", "name", "sha256", "data"} {
		m := strings.Index(p.body, `name="`+name+`" value="`)
		if m < 0 {
			t.Fatalf("preview form lacks %s", name)
		}
		v := p.body[m+len(`name="`+name+`" value="`):]
		form.Set(name, htmlUnescape(v[:strings.Index(v, `"`)]))
	}
	tampered := url.Values{"source": form["source"], "name": form["name"], "sha256": {strings.Repeat("0", 64)}, "data": form["data"]}
	if r := f.post("/imports/apply", hrPerson, tampered); r.status != 400 {
		t.Errorf("apply with another checksum: %d, want 400", r.status)
	}
	if r := f.post("/imports/apply", employee, form); r.status != 403 {
		t.Errorf("an employee applies: %d, want 403", r.status)
	}
	r := f.post("/imports/apply", hrPerson, form)
	if r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), "/imports/") {
		t.Fatalf("apply: %d %s\n%s", r.status, r.header.Get("Location"), r.body)
	}
	if _, err := f.st.Person(ctx, "hris", "E009"); err != nil {
		t.Errorf("E009 after apply: %v", err)
	}
	detail := f.get(strings.Split(r.header.Get("Location"), "?")[0], hrPerson)
	if detail.status != 200 || !strings.Contains(detail.body, "joiner") {
		t.Errorf("import page: %d\n%s", detail.status, detail.body)
	}
	// A file with a bad row is shown with its error and cannot be applied.
	body.Reset()
	mw = multipart.NewWriter(&body)
	_ = mw.WriteField("source", "hris")
	fw, _ = mw.CreateFormFile("file", "bad.csv")
	_, _ = fw.Write([]byte(csvHeader + "E001,Alice Boss,not-an-email,CEO,Exec,\n"))
	mw.Close()
	bad := f.do("POST", "/imports/preview", hrPerson, &body, mw.FormDataContentType())
	if bad.status != 200 || !strings.Contains(bad.body, "row-errors") || strings.Contains(bad.body, `id="apply"`) {
		t.Errorf("preview of a bad file: %d\n%s", bad.status, bad.body)
	}
}

// Too many leavers hold the import; HR sees the diff and approves it.
func TestHeldImportDecidedFromThePage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	next := firstSnapshot
	for _, line := range []string{"E005,Eve Dev,eve@example.com,Engineer,Eng,E002\n", "E007,Sam Sec,sam@example.com,Security,Security,E001\n"} {
		next = strings.Replace(next, line, "", 1)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("source", "hris")
	fw, _ := mw.CreateFormFile("file", "leavers.csv")
	_, _ = fw.Write([]byte(next))
	mw.Close()
	p := f.do("POST", "/imports/apply", hrPerson, &body, mw.FormDataContentType())
	if p.status != 303 {
		t.Fatalf("apply: %d\n%s", p.status, p.body)
	}
	held, _ := f.st.ImportsBy(ctx, store.ImportFilter{Status: store.ImportHeld})
	if len(held) != 1 {
		t.Fatalf("held imports: %v", held)
	}
	list := f.get("/imports", hrPerson)
	if !strings.Contains(list.body, "Held imports waiting for a decision (1)") {
		t.Errorf("imports page lacks the held import:\n%s", list.body)
	}
	page := f.get("/imports/"+held[0].ID, hrPerson)
	for _, want := range []string{"the diff waiting for a decision", "E005", "E007", `action="/imports/` + held[0].ID + `/approve"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("held import page lacks %q:\n%s", want, page.body)
		}
	}
	checkPage(t, "held import", page)
	if r := f.post("/imports/"+held[0].ID+"/approve", employee, url.Values{}); r.status != 403 {
		t.Errorf("an employee approves: %d", r.status)
	}
	if r := f.post("/imports/"+held[0].ID+"/approve", hrPerson, url.Values{}); r.status != 303 {
		t.Fatalf("approve: %d\n%s", r.status, r.body)
	}
	if imp, _ := f.st.Import(ctx, held[0].ID); imp.Status != store.ImportApplied || !strings.HasPrefix(imp.DecidedBy, "person:"+hrPerson) {
		t.Errorf("after approval: %+v", imp)
	}
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&#43;", "+", "&#61;", "=", "&#34;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#39;", "'").Replace(s)
}

// Access requests from the pages: ask, then the manager approves with a
// comment.
func TestRequestAskAndApprove(t *testing.T) {
	f := newFixture(t)
	if p := f.get("/requests/new", employee); !strings.Contains(p.body, `value="erp/exports"`) {
		t.Fatalf("catalogue:\n%s", p.body)
	}
	p := f.post("/requests", employee, url.Values{"item": {"erp/exports"}, "justification": {"month end"}})
	if p.status != 303 {
		t.Fatalf("ask: %d\n%s", p.status, p.body)
	}
	rs, _ := f.st.Requests(context.Background(), store.RequestFilter{Requester: employee})
	if len(rs) != 1 {
		t.Fatalf("requests: %v", rs)
	}
	if inbox := f.get("/", manager); !strings.Contains(inbox.body, fmt.Sprintf("#%d", rs[0].ID)) {
		t.Errorf("manager's inbox lacks the approval:\n%s", inbox.body)
	}
	if p := f.post(fmt.Sprintf("/requests/%d/approve", rs[0].ID), employee, url.Values{}); p.status != 403 {
		t.Errorf("requester approves: %d, want 403", p.status)
	}
	if p := f.post(fmt.Sprintf("/requests/%d/approve", rs[0].ID), manager, url.Values{"comment": {"ok for Q3"}}); p.status != 303 {
		t.Fatalf("approve: %d\n%s", p.status, p.body)
	}
	got, _ := f.st.Request(context.Background(), rs[0].ID)
	if len(got.Approvals) != 1 || got.Approvals[0].Note != "ok for Q3" {
		t.Errorf("approval: %+v", got.Approvals)
	}
}

// The teams page draws its charts as SVG on the server.
func TestTeamsCharts(t *testing.T) {
	f := newFixture(t)
	p := f.get("/teams", hrPerson)
	if p.status != 200 || strings.Count(p.body, "<svg") != 3 || !strings.Contains(p.body, "manager open") || !strings.Contains(p.body, "Lifecycle clocks, last 90 days") {
		t.Fatalf("teams: %d\n%s", p.status, p.body)
	}
}

// The audit page verifies the chain.
func TestAuditPageVerifiesChain(t *testing.T) {
	f := newFixture(t)
	p := f.get("/audit?action=hr", secPerson)
	if p.status != 200 || !strings.Contains(p.body, "Hash chain verified") || !strings.Contains(p.body, "hr.joiner") {
		t.Fatalf("audit: %d\n%s", p.status, p.body)
	}
}

// The inbox pages its tasks: a team with 55 open tasks sees 50, the
// count of all, and the rest on page 2.
func TestInboxPagesTasks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 55 {
		if _, err := task.Create(ctx, f.st, store.Task{Source: "hris", Person: "E003", Team: "it", Title: fmt.Sprintf("Check badge %02d", i),
			Status: store.TaskOpen, Kind: store.TaskHuman, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	p := f.get("/", itPerson)
	if p.status != 200 || !strings.Contains(p.body, "Tasks waiting for me (55)") || strings.Count(p.body, "Check badge") != 50 || !strings.Contains(p.body, `rel="next"`) {
		t.Fatalf("page 1: %d, %d tasks shown\n%.3000s", p.status, strings.Count(p.body, "Check badge"), p.body)
	}
	p = f.get("/?page=2", itPerson)
	if p.status != 200 || strings.Count(p.body, "Check badge") != 5 || !strings.Contains(p.body, `rel="prev"`) {
		t.Fatalf("page 2: %d, %d tasks shown", p.status, strings.Count(p.body, "Check badge"))
	}
	if p = f.get("/?page=0", itPerson); p.status != 400 {
		t.Fatalf("page 0: %d, want 400", p.status)
	}
}

package web_test

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/evidence"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/web"
)

// auditor is Alice (E001), the fixture's auditor; she also reviews Bob's
// access as his manager.
const auditor = "E001"

// withReview gives Eve legacy erp access nothing explains (next to the
// erp account and reports the Eng people hold by their role: 7 items)
// and has Security start a manager campaign from the page; it returns
// the campaign's ID.
func withReview(t *testing.T, f *fixture) int64 { t.Helper(); return withReviewOf(t, f, 7) }

// withReviewOf is withReview expecting n items.
func withReviewOf(t *testing.T, f *fixture, n int) int64 {
	t.Helper()
	ctx := context.Background()
	err := f.st.QueueOps(ctx, store.ProvisionBatch{Put: []store.GrantRow{
		{App: "erp", Source: "hris", EmployeeID: "E005", Entitlement: "legacy", State: "active", Reason: "imported"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if p := f.post("/reviews", manager, url.Values{"kind": {"manager"}}); p.status != 403 {
		t.Fatalf("a manager starts a campaign: %d, want 403", p.status)
	}
	if p := f.post("/reviews", secPerson, url.Values{"kind": {"manager"}, "due": {"soon"}}); p.status != 400 || !strings.Contains(p.body, `due &#34;soon&#34;`) {
		t.Fatalf("a bad due: %d, want 400 naming it\n%s", p.status, p.body)
	}
	if p := f.post("/reviews", secPerson, url.Values{"kind": {"app"}}); p.status != 422 || !strings.Contains(p.body, "--app") {
		t.Fatalf("an app campaign without its app: %d, want 422\n%s", p.status, p.body)
	}
	if cs, _ := f.st.Campaigns(ctx, ""); len(cs) != 0 {
		t.Fatalf("refused starts stored campaigns: %+v", cs)
	}
	p := f.post("/reviews", secPerson, url.Values{"kind": {"manager"}, "app": {"erp"}, "due": {"7d"}})
	if p.status != 303 || !strings.HasPrefix(p.header.Get("Location"), "/reviews/") {
		t.Fatalf("start: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	cs, err := f.st.Campaigns(ctx, store.CampaignOpen)
	if err != nil || len(cs) != 1 || cs[0].Items != n || !strings.HasPrefix(cs[0].CreatedBy, "person:"+secPerson) {
		t.Fatalf("campaigns after the start: %+v %v", cs, err)
	}
	return cs[0].ID
}

func itemOf(t *testing.T, f *fixture, campaign int64, person, entitlement string) store.ReviewItem {
	t.Helper()
	items, err := f.st.ReviewItems(context.Background(), store.ReviewItemFilter{Campaign: campaign})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(items, func(it store.ReviewItem) bool { return it.EmployeeID == person && it.Entitlement == entitlement })
	if i < 0 {
		t.Fatalf("no item %s/%s in %+v", person, entitlement, items)
	}
	return items[i]
}

// Security lists the campaigns with their counts and sees every item;
// an employee gets 403 on both pages, and the refusal is audited.
func TestReviewPagesForSecurityAndEmployee(t *testing.T) {
	f := newFixture(t)
	id := withReview(t, f)
	list := f.get("/reviews", secPerson)
	if list.status != 200 {
		t.Fatalf("/reviews: %d\n%s", list.status, list.body)
	}
	checkPage(t, "/reviews", list)
	for _, want := range []string{fmt.Sprintf(`<a href="/reviews/%d">#%d</a>`, id, id), "manager · erp", `id="start-form"`, `<option>entitlement</option>`} {
		if !strings.Contains(list.body, want) {
			t.Errorf("/reviews lacks %q:\n%s", want, list.body)
		}
	}
	if p := f.get("/reviews?state=done", secPerson); p.status != 400 {
		t.Errorf("/reviews?state=done: %d, want 400", p.status)
	}
	page := f.get(fmt.Sprintf("/reviews/%d", id), secPerson)
	if page.status != 200 {
		t.Fatalf("campaign page: %d\n%s", page.status, page.body)
	}
	checkPage(t, "campaign page", page)
	for _, want := range []string{"E003", "E005", "E002", "7 pending, 0 kept", "revoke: nothing in the policy explains this access",
		`action="/reviews/` + fmt.Sprint(id) + `/close"`, `href="/reviews/` + fmt.Sprint(id) + `/evidence.zip"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("campaign page lacks %q:\n%s", want, page.body)
		}
	}
	if strings.Contains(page.body, "/decide") {
		t.Errorf("Security, who reviews none of them, is offered decisions:\n%s", page.body)
	}
	// Filters in the URL: a reviewer's items, a state; a bad state is 400.
	if p := f.get(fmt.Sprintf("/reviews/%d?reviewer=%s", id, auditor), secPerson); !strings.Contains(p.body, `<tr id="item-`) || strings.Contains(p.body, "E003") || !strings.Contains(p.body, "E002") {
		t.Errorf("?reviewer=%s: want only Bob's item:\n%s", auditor, p.body)
	}
	if p := f.get(fmt.Sprintf("/reviews/%d?state=kept", id), secPerson); strings.Contains(p.body, `<tr id="item-`) {
		t.Errorf("?state=kept lists items before any decision:\n%s", p.body)
	}
	if p := f.get(fmt.Sprintf("/reviews/%d?state=gone", id), secPerson); p.status != 400 {
		t.Errorf("?state=gone: %d, want 400", p.status)
	}
	if p := f.get("/reviews/999", secPerson); p.status != 404 {
		t.Errorf("a missing campaign: %d, want 404", p.status)
	}
	// The employee reviews nothing: 403 on the list and on the campaign.
	if p := f.get("/reviews", employee); p.status != 403 {
		t.Errorf("employee on /reviews: %d, want 403", p.status)
	}
	if p := f.get(fmt.Sprintf("/reviews/%d", id), employee); p.status != 403 || strings.Contains(p.body, "E005") {
		t.Errorf("employee on the campaign: %d, want 403\n%s", p.status, p.body)
	}
	es, err := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: "access.denied", Actor: "person:" + employee + " via session:test-" + employee})
	if err != nil || !slices.ContainsFunc(es, func(e audit.Entry) bool { return strings.Contains(string(e.After), fmt.Sprintf(`"/reviews/%d"`, id)) }) {
		t.Errorf("no access.denied entry for the employee's campaign page: %v %v", es, err)
	}
	// Close: undecided items follow the policy (keep); no more decisions.
	if p := f.post(fmt.Sprintf("/reviews/%d/close", id), manager, url.Values{}); p.status != 403 {
		t.Errorf("a manager closes: %d, want 403", p.status)
	}
	if p := f.post(fmt.Sprintf("/reviews/%d/close", id), secPerson, url.Values{}); p.status != 303 {
		t.Fatalf("close: %d\n%s", p.status, p.body)
	}
	if c, _ := f.st.Campaign(context.Background(), id); c.State != store.CampaignComplete && c.State != store.CampaignClosed {
		t.Errorf("campaign after the close: %+v", c)
	}
	if p := f.get(fmt.Sprintf("/reviews/%d", id), secPerson); !strings.Contains(p.body, "0 pending, 7 kept") || strings.Contains(p.body, "/close") {
		t.Errorf("closed campaign page:\n%s", p.body)
	}
}

// The manager finds the review in the inbox, sees only their items, and
// keeps one and revokes another (a reason required) from the page; the
// person reviewed may not decide their own access, nor may a colleague.
func TestReviewerDecidesFromThePage(t *testing.T) {
	f := newFixture(t)
	id := withReview(t, f)
	carol, eve, bob := itemOf(t, f, id, "E003", "reports"), itemOf(t, f, id, "E005", "legacy"), itemOf(t, f, id, "E002", "reports")
	inbox := f.get("/", manager)
	if !strings.Contains(inbox.body, fmt.Sprintf(`href="/reviews/%d?mine=1&amp;state=pending">Campaign %d: 5 item(s) to decide`, id, id)) {
		t.Fatalf("the manager's inbox lacks the review:\n%s", inbox.body)
	}
	if p := f.get("/", employee); strings.Contains(p.body, "Access reviews waiting") {
		t.Errorf("the employee's inbox shows reviews:\n%s", p.body)
	}
	mine := f.get(fmt.Sprintf("/reviews/%d?mine=1&state=pending", id), manager)
	if mine.status != 200 {
		t.Fatalf("the manager's items: %d\n%s", mine.status, mine.body)
	}
	checkPage(t, "reviewer's page", mine)
	for _, it := range []store.ReviewItem{carol, eve} {
		if !strings.Contains(mine.body, fmt.Sprintf(`action="/reviews/items/%d/decide"`, it.ID)) {
			t.Errorf("no decision form for item %d:\n%s", it.ID, mine.body)
		}
	}
	if strings.Contains(mine.body, fmt.Sprintf(`id="item-%d"`, bob.ID)) || strings.Contains(mine.body, "snapshot digest") {
		t.Errorf("the manager sees their own item or the campaign's totals:\n%s", mine.body)
	}
	// Without reviews.read the page is the reviewer's items, whatever the URL says.
	if all := f.get(fmt.Sprintf("/reviews/%d", id), manager); all.status != 200 || strings.Contains(all.body, fmt.Sprintf(`id="item-%d"`, bob.ID)) {
		t.Errorf("the manager on the whole campaign: %d\n%s", all.status, all.body)
	}
	decide := func(who string, it store.ReviewItem, decision, reason string) page {
		return f.post(fmt.Sprintf("/reviews/items/%d/decide", it.ID), who, url.Values{"decision": {decision}, "reason": {reason},
			"back": {fmt.Sprintf("/reviews/%d?mine=1&state=pending", id)}})
	}
	if p := decide(manager, eve, "revoke", " "); p.status != 422 || !strings.Contains(p.body, "reason") {
		t.Errorf("a revoke without a reason: %d, want 422\n%s", p.status, p.body)
	}
	if p := decide(employee, carol, "keep", ""); p.status != 403 || !strings.Contains(p.body, "own access") {
		t.Errorf("Carol on her own access: %d, want 403\n%s", p.status, p.body)
	}
	if p := decide("E005", carol, "keep", ""); p.status != 403 {
		t.Errorf("Eve on Carol's access: %d, want 403", p.status)
	}
	if p := decide(manager, bob, "keep", ""); p.status != 403 {
		t.Errorf("Bob on his own access: %d, want 403", p.status)
	}
	es, _ := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: "access.denied", Actor: "person:" + employee + " via session:test-" + employee})
	if !slices.ContainsFunc(es, func(e audit.Entry) bool { return strings.Contains(string(e.After), "own access") }) {
		t.Errorf("Carol's refused decision is not audited: %v", es)
	}
	p := decide(manager, eve, "revoke", "left the ERP project")
	if p.status != 303 || !strings.HasPrefix(p.header.Get("Location"), fmt.Sprintf("/reviews/%d?mine=1&state=pending&done=", id)) {
		t.Fatalf("revoke: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	if p := decide(manager, carol, "keep", ""); p.status != 303 {
		t.Fatalf("keep: %d\n%s", p.status, p.body)
	}
	if p := decide(manager, carol, "revoke", "changed my mind"); p.status != 409 {
		t.Errorf("deciding twice: %d, want 409", p.status)
	}
	ctx := context.Background()
	if got, _ := f.st.ReviewItem(ctx, eve.ID); got.Decision != store.DecisionRevoke || got.Reason != "left the ERP project" || got.DecidedBy != manager {
		t.Errorf("Eve's item: %+v", got)
	}
	if got, _ := f.st.ReviewItem(ctx, carol.ID); got.State != store.ItemKept {
		t.Errorf("Carol's item: %+v", got)
	}
	if rs, _ := f.st.Revocations(ctx, "hris", false); len(rs) != 1 || rs[0].EmployeeID != "E005" {
		t.Errorf("revocations: %+v", rs)
	}
	// The revocation is planned at once: an erp operation takes it away.
	ops, err := f.st.Ops(ctx, store.OpFilter{App: "erp", EmployeeID: "E005"})
	if err != nil || !slices.ContainsFunc(ops, func(o store.Operation) bool { return o.Kind == store.OpRevoke && o.Entitlement == "legacy" }) {
		t.Errorf("no revoke operation of Eve's legacy access after the decision: %+v %v", ops, err)
	}
	after := f.get(fmt.Sprintf("/reviews/%d?mine=1", id), manager)
	if strings.Contains(after.body, fmt.Sprintf(`action="/reviews/items/%d/decide"`, eve.ID)) || !strings.Contains(after.body, "left the ERP project") {
		t.Errorf("the manager's page after deciding:\n%s", after.body)
	}
	if inbox := f.get("/", manager); !strings.Contains(inbox.body, fmt.Sprintf("Campaign %d: 3 item(s) to decide", id)) {
		t.Errorf("the inbox still lists decided items:\n%s", inbox.body)
	}
	// Alice reviews Bob's access.
	if p := decide(auditor, bob, "keep", ""); p.status != 303 {
		t.Errorf("Alice keeps Bob's access: %d\n%s", p.status, p.body)
	}
	if list := f.get("/reviews", secPerson); !strings.Contains(list.body, "<td>7</td><td>4</td><td>2</td><td>1</td><td>0</td>") {
		t.Errorf("/reviews counts (items, pending, kept, revoked, verified):\n%s", list.body)
	}
}

// The auditor downloads the campaign's evidence as a zip: it unzips to a
// bundle evidence.Verify passes, with the signed checkpoint; the export is
// audited with the auditor and the campaign. An employee may not.
func TestAuditorDownloadsReviewEvidence(t *testing.T) {
	dir := t.TempDir()
	priv, pub, err := audit.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "signing.pem")
	if err := os.WriteFile(key, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFixtureConfig(t, webConfig+"audit:\n  checkpoint:\n    signing_key: ${file:"+key+"}\n    sink: {file: "+filepath.Join(dir, "cp.jsonl")+"}\n")
	id := withReview(t, f)
	zipURL := fmt.Sprintf("/reviews/%d/evidence.zip", id)
	if p := f.get(zipURL, employee); p.status != 403 {
		t.Errorf("employee downloads the evidence: %d, want 403", p.status)
	}
	if p := f.get("/reviews/999/evidence.zip", auditor); p.status != 404 {
		t.Errorf("evidence of a missing campaign: %d, want 404", p.status)
	}
	tmpBefore, _ := filepath.Glob(filepath.Join(os.TempDir(), "tango-evidence-*"))
	p := f.get(zipURL, auditor)
	if p.status != 200 || p.header.Get("Content-Type") != "application/zip" || !strings.Contains(p.header.Get("Content-Disposition"), fmt.Sprintf("campaign-%d-evidence.zip", id)) {
		t.Fatalf("download: %d %v", p.status, p.header)
	}
	zr, err := zip.NewReader(bytes.NewReader([]byte(p.body)), int64(len(p.body)))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "unzipped")
	for _, zf := range zr.File {
		if zf.Modified.Before(time.Now().Add(-time.Hour)) {
			t.Errorf("zip entry %s dated %s, want the bundle's time", zf.Name, zf.Modified)
		}
		name := filepath.Join(out, filepath.FromSlash(zf.Name))
		if !strings.HasPrefix(name, out+string(filepath.Separator)) {
			t.Fatalf("zip entry outside its directory: %s", zf.Name)
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bundle := filepath.Join(out, fmt.Sprintf("campaign-%d-evidence", id))
	pubKey, err := audit.ParsePublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	checked := false
	m, err := evidence.Verify(bundle, func(raw json.RawMessage) error {
		var c audit.Checkpoint
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		checked = true
		return audit.VerifyCheckpoint(c, pubKey)
	})
	if err != nil || !checked || m.Kind != "campaign" || m.Params["campaign"] != fmt.Sprint(id) || m.Rows["items"] != 7 {
		t.Fatalf("the unzipped bundle: %+v checkpoint checked %v: %v", m, checked, err)
	}
	es, err := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: "evidence.exported"})
	if err != nil || len(es) != 1 || es[0].Actor != "person:"+auditor+" via session:test-"+auditor || es[0].Subject != fmt.Sprintf("campaign:%d", id) {
		t.Fatalf("evidence.exported entries: %+v %v", es, err)
	}
	// Nothing is left behind in the temporary directory.
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "tango-evidence-*"))
	if left = slices.DeleteFunc(left, func(d string) bool { return slices.Contains(tmpBefore, d) }); len(left) != 0 {
		t.Errorf("temporary bundles left: %v", left)
	}
}

// A reviewer's items are paged in the URL: 60 more of Eve's entitlements
// make 65 for Bob, 50 on the first page and 15 on the second, none twice,
// in ID order, and never his own.
func TestReviewItemsPaged(t *testing.T) {
	f := newFixture(t)
	var rows []store.GrantRow
	for i := range 60 {
		rows = append(rows, store.GrantRow{App: "erp", Source: "hris", EmployeeID: "E005", Entitlement: fmt.Sprintf("extra-%02d", i), State: "active", Reason: "imported"})
	}
	if err := f.st.QueueOps(context.Background(), store.ProvisionBatch{Put: rows}); err != nil {
		t.Fatal(err)
	}
	id := withReviewOf(t, f, 67)
	seen := map[string]bool{}
	var order []string
	for i, want := range []int{web.PageSize, 65 - web.PageSize} {
		pg := i + 1
		p := f.get(fmt.Sprintf("/reviews/%d?mine=1&page=%d", id, pg), manager)
		ids := itemRowID.FindAllStringSubmatch(p.body, -1)
		if p.status != 200 || len(ids) != want {
			t.Fatalf("page %d: %d, %d items, want %d", pg, p.status, len(ids), want)
		}
		if hasNext := strings.Contains(p.body, `rel="next"`); hasNext != (pg == 1) {
			t.Errorf("page %d: next link %v", pg, hasNext)
		}
		for _, m := range ids {
			if seen[m[1]] {
				t.Errorf("item %s on two pages", m[1])
			}
			seen[m[1]] = true
			order = append(order, m[1])
		}
	}
	if !slices.IsSortedFunc(order, func(a, b string) int { return cmp.Compare(atoi(a), atoi(b)) }) {
		t.Errorf("items not in ID order across pages: %v", order)
	}
	if bob := itemOf(t, f, id, "E002", "reports"); seen[fmt.Sprint(bob.ID)] {
		t.Errorf("Bob's own item is among his items to review")
	}
	if p := f.get(fmt.Sprintf("/reviews/%d?page=0", id), manager); p.status != 400 {
		t.Errorf("page=0: %d, want 400", p.status)
	}
}

var itemRowID = regexp.MustCompile(`<tr id="item-(\d+)">`)

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// The third choice on the reviewer's page: Modify with a labelled
// narrower entitlement; refused without one, done it revokes the legacy
// access and grants the narrower one, and the page shows it.
func TestReviewerModifiesFromThePage(t *testing.T) {
	f := newFixture(t)
	// Reconcile read Eve's last sign-in to erp 143 days ago.
	if err := f.st.PutAccountActivity(context.Background(), []store.AccountActivity{{App: "erp", Source: "hris", EmployeeID: "E005",
		LastActivity: time.Now().Add(-143*24*time.Hour - time.Hour), ReadAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	id := withReview(t, f)
	eve := itemOf(t, f, id, "E005", "legacy")
	mine := f.get(fmt.Sprintf("/reviews/%d?mine=1&state=pending", id), manager)
	checkPage(t, "reviewer's page", mine)
	if !strings.Contains(mine.body, fmt.Sprintf(`<label for="entitlement-%d">Narrower entitlement (to modify)<input id="entitlement-%d" name="entitlement"`, eve.ID, eve.ID)) ||
		!strings.Contains(mine.body, `name="decision" value="modify">Modify</button>`) || !strings.Contains(mine.body, "Last activity") {
		t.Fatalf("no labelled Modify on Eve's item:\n%s", mine.body)
	}
	if !strings.Contains(mine.body, "143 days before the start") || !strings.Contains(mine.body, "revoke: inactive for 143 days") {
		t.Errorf("Eve's inactivity is not shown:\n%s", mine.body)
	}
	decide := func(v url.Values) page {
		v.Set("back", fmt.Sprintf("/reviews/%d?mine=1&state=pending", id))
		return f.post(fmt.Sprintf("/reviews/items/%d/decide", eve.ID), manager, v)
	}
	if p := decide(url.Values{"decision": {"modify"}, "reason": {"exports only"}}); p.status != 422 || !strings.Contains(p.body, "--entitlement") {
		t.Fatalf("modify without an entitlement: %d\n%s", p.status, p.body)
	}
	p := decide(url.Values{"decision": {"modify"}, "entitlement": {"exports"}, "reason": {"exports only"}})
	if p.status != 303 || !strings.Contains(p.header.Get("Location"), "modified+to+exports") {
		t.Fatalf("modify: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	ctx := context.Background()
	got, _ := f.st.ReviewItem(ctx, eve.ID)
	if got.Decision != store.DecisionModify || got.NewEntitlement != "exports" || got.Request == 0 || got.DecidedBy != manager {
		t.Fatalf("Eve's item: %+v", got)
	}
	ops, err := f.st.Ops(ctx, store.OpFilter{App: "erp", EmployeeID: "E005"})
	if err != nil || !slices.ContainsFunc(ops, func(o store.Operation) bool { return o.Kind == store.OpRevoke && o.Entitlement == "legacy" }) ||
		!slices.ContainsFunc(ops, func(o store.Operation) bool { return o.Kind == store.OpGrant && o.Entitlement == "exports" }) {
		t.Fatalf("Eve's erp operations after the modify: %+v %v; want legacy revoked and exports granted", ops, err)
	}
	after := f.get(fmt.Sprintf("/reviews/%d?mine=1", id), manager)
	if !strings.Contains(after.body, `<span class="badge">modify</span> to exports by `+manager) {
		t.Errorf("the page after the modify:\n%s", after.body)
	}
	// Eve's page says why she holds exports: the request the item's modify made.
	if pp := f.get("/people/E005", manager); !strings.Contains(pp.body, fmt.Sprintf("access request <a href=\"/requests#request-%d\">", got.Request)) ||
		!strings.Contains(pp.body, fmt.Sprintf("modify decision on access review item #%d", eve.ID)) {
		t.Errorf("Eve's access does not show the review item behind exports:\n%s", pp.body)
	}
	// A keep ignores the entitlement field its form always carries.
	carol := itemOf(t, f, id, "E003", "reports")
	if p := f.post(fmt.Sprintf("/reviews/items/%d/decide", carol.ID), manager, url.Values{"decision": {"keep"}, "entitlement": {""}}); p.status != 303 {
		t.Errorf("a keep with the empty entitlement field: %d\n%s", p.status, p.body)
	}
}

// An item escalated to the reviewer's manager near the deadline waits for
// that manager too: counted in their inbox, listed with a decision form
// on their ?mine=1 page, and decided from it.
func TestEscalatedItemWaitsForTheManager(t *testing.T) {
	f := newFixture(t)
	id := withReview(t, f)
	carol := itemOf(t, f, id, "E003", "reports")
	own, err := f.st.ReviewItems(context.Background(), store.ReviewItemFilter{Campaign: id, Reviewer: auditor})
	if err != nil || len(own) == 0 {
		t.Fatalf("Alice's own items: %+v %v", own, err)
	}
	if p := f.get("/", auditor); !strings.Contains(p.body, fmt.Sprintf("Campaign %d: %d item(s) to decide", id, len(own))) {
		t.Fatalf("Alice's inbox before the escalation: want her %d item(s) (Bob's access)\n%s", len(own), p.body)
	}
	ctx := context.Background()
	if err := f.st.InTx(ctx, func(tx store.Tx) error {
		ok, err := tx.EscalateReviewItem(carol.ID, auditor, time.Now())
		if !ok && err == nil {
			t.Error("the escalation claimed nothing")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if p := f.get("/", auditor); !strings.Contains(p.body, fmt.Sprintf(`href="/reviews/%d?mine=1&amp;state=pending">Campaign %d: %d item(s) to decide`, id, id, len(own)+1)) {
		t.Fatalf("Alice's inbox after the escalation: want %d items, Carol's escalated one counted\n%s", len(own)+1, p.body)
	}
	mine := f.get(fmt.Sprintf("/reviews/%d?mine=1&state=pending", id), auditor)
	if mine.status != 200 || !strings.Contains(mine.body, fmt.Sprintf(`action="/reviews/items/%d/decide"`, carol.ID)) ||
		!strings.Contains(mine.body, "(escalated to "+auditor+")") {
		t.Fatalf("Alice's items: %d, want a decision form for Carol's item, shown escalated to her\n%s", mine.status, mine.body)
	}
	checkPage(t, "escalated items page", mine)
	p := f.post(fmt.Sprintf("/reviews/items/%d/decide", carol.ID), auditor, url.Values{"decision": {"keep"},
		"back": {fmt.Sprintf("/reviews/%d?mine=1&state=pending", id)}})
	if p.status != 303 {
		t.Fatalf("Alice keeps the escalated item: %d\n%s", p.status, p.body)
	}
	if got, _ := f.st.ReviewItem(ctx, carol.ID); got.State != store.ItemKept || got.DecidedBy != auditor {
		t.Fatalf("Carol's item: %+v, want kept by Alice", got)
	}
	// Bob, the reviewer, still has his other items.
	if p := f.get("/", manager); !strings.Contains(p.body, fmt.Sprintf("Campaign %d: 4 item(s) to decide", id)) {
		t.Errorf("Bob's inbox: want his 4 other items\n%s", p.body)
	}
}

package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/web"
)

// wantPager checks a page's pager links.
func wantPager(t *testing.T, path string, p page, prev, next string) {
	t.Helper()
	for rel, href := range map[string]string{"prev": prev, "next": next} {
		link := fmt.Sprintf(`href="%s" rel="%s"`, href, rel)
		if href == "" {
			if strings.Contains(p.body, `rel="`+rel+`"`) {
				t.Errorf("%s: a %s link, want none", path, rel)
			}
		} else if !strings.Contains(p.body, link) {
			t.Errorf("%s: no %s link %s", path, rel, href)
		}
	}
}

// /imports lists the newest imports a page at a time (?page=).
func TestImportsPaging(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	n := web.PageSize + 5
	for i := 1; i <= n; i++ {
		imp := store.Import{ID: fmt.Sprintf("imp_r%02d", i), Source: "hris", File: "bad.csv", SHA256: "ab", Status: store.ImportRejected,
			Actor: "test", CreatedAt: time.Now().Add(time.Duration(i) * time.Minute), Reason: "1 error(s)"}
		if err := f.st.RejectImport(ctx, imp, store.ImportEntry(imp, "hr.import.rejected", "test", imp.CreatedAt)); err != nil {
			t.Fatal(err)
		}
	}
	link := func(id string) string { return `href="/imports/` + id + `"` }

	p := f.get("/imports", hrPerson)
	if p.status != 200 {
		t.Fatalf("/imports: %d", p.status)
	}
	checkPage(t, "/imports", p)
	if got := strings.Count(p.body, `<tr class="status-`); got != web.PageSize {
		t.Errorf("/imports lists %d imports, want %d", got, web.PageSize)
	}
	if !strings.Contains(p.body, link(fmt.Sprintf("imp_r%02d", n))) || strings.Contains(p.body, link("imp_r05")) {
		t.Errorf("/imports: want the newest (imp_r%02d) and not the 51st newest (imp_r05)", n)
	}
	wantPager(t, "/imports", p, "", "/imports?page=2")

	p = f.get("/imports?page=2", hrPerson)
	if p.status != 200 {
		t.Fatalf("/imports?page=2: %d", p.status)
	}
	if got := strings.Count(p.body, `<tr class="status-`); got != 7 { // imp_r05..01 and the fixture's two
		t.Errorf("/imports?page=2 lists %d imports, want 7", got)
	}
	if !strings.Contains(p.body, link("imp_r05")) || !strings.Contains(p.body, link("imp_r01")) || strings.Contains(p.body, link("imp_r06")) {
		t.Errorf("/imports?page=2: want imp_r05 to imp_r01 only of the rejected:\n%s", p.body)
	}
	wantPager(t, "/imports?page=2", p, "/imports?page=1", "")

	for _, bad := range []string{"0", "x", "201"} {
		if p := f.get("/imports?page="+bad, hrPerson); p.status != 400 || !strings.Contains(p.body, `page &#34;`+bad+`&#34;`) {
			t.Errorf("/imports?page=%s: %d, want 400 naming the page:\n%s", bad, p.status, p.body)
		}
	}
}

// /requests lists the newest of the caller's requests (asked for or
// for them) a page at a time (?page=); others' requests are not there.
func TestRequestsPaging(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	n := web.PageSize + 5
	var ids []int64 // Carol's, oldest first
	for i := 1; i <= n+1; i++ {
		requester, beneficiary := employee, employee
		switch {
		case i%2 == 0: // her manager asks for her
			requester = manager
		case i == 3: // Eve's own: not Carol's
			requester, beneficiary = "E005", "E005"
		}
		r, err := request.CreateRequest(ctx, f.st, store.Request{Source: "hris", Requester: requester, Beneficiary: beneficiary,
			App: "erp", Entitlement: "exports", Justification: fmt.Sprintf("need %d", i), Risk: "low",
			Chain: []string{store.StepManager}, CreatedAt: time.Now()}, "person:"+requester)
		if err != nil {
			t.Fatal(err)
		}
		if beneficiary == employee {
			ids = append(ids, r.ID)
		}
	}
	row := func(id int64) string { return fmt.Sprintf(`<tr id="request-%d">`, id) }
	if len(ids) != n {
		t.Fatalf("%d requests of Carol's, want %d", len(ids), n)
	}

	p := f.get("/requests", employee)
	if p.status != 200 {
		t.Fatalf("/requests: %d", p.status)
	}
	checkPage(t, "/requests", p)
	if got := strings.Count(p.body, `<tr id="request-`); got != web.PageSize {
		t.Errorf("/requests lists %d requests, want %d", got, web.PageSize)
	}
	if !strings.Contains(p.body, row(ids[n-1])) || !strings.Contains(p.body, row(ids[n-web.PageSize])) || strings.Contains(p.body, row(ids[n-web.PageSize-1])) {
		t.Errorf("/requests: want the newest %d of Carol's", web.PageSize)
	}
	if i := strings.Index(p.body, row(ids[n-1])); i < 0 || i > strings.Index(p.body, row(ids[n-2])) {
		t.Errorf("/requests: the newest is not first")
	}
	wantPager(t, "/requests", p, "", "/requests?page=2")

	p = f.get("/requests?page=2", employee)
	if p.status != 200 {
		t.Fatalf("/requests?page=2: %d", p.status)
	}
	if got := strings.Count(p.body, `<tr id="request-`); got != n-web.PageSize {
		t.Errorf("/requests?page=2 lists %d requests, want %d", got, n-web.PageSize)
	}
	if !strings.Contains(p.body, row(ids[0])) || strings.Contains(p.body, row(3)) {
		t.Errorf("/requests?page=2: want Carol's oldest and not Eve's request 3:\n%s", p.body)
	}
	wantPager(t, "/requests?page=2", p, "/requests?page=1", "")

	if p := f.get("/requests?page=-1", employee); p.status != 400 || !strings.Contains(p.body, "page") {
		t.Errorf("/requests?page=-1: %d, want 400 naming the page", p.status)
	}
}

// The inbox pages the approvals waiting for me (?apage=) apart from its
// tasks (?page=), the count above them counting all.
func TestInboxPagesApprovals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	n := web.PageSize + 5
	for i := 1; i <= n; i++ {
		if _, err := request.CreateRequest(ctx, f.st, store.Request{Source: "hris", Requester: employee, Beneficiary: employee,
			App: "erp", Entitlement: "exports", Justification: fmt.Sprintf("need %d", i), Risk: "low",
			Chain: []string{store.StepManager}, CreatedAt: time.Now()}, "person:"+employee); err != nil {
			t.Fatal(err)
		}
	}
	rows := func(p page) int { return strings.Count(p.body, `<a href="/requests#request-`) }
	p := f.get("/", manager)
	if p.status != 200 {
		t.Fatalf("/: %d", p.status)
	}
	checkPage(t, "/", p)
	if got := rows(p); got != web.PageSize || !strings.Contains(p.body, fmt.Sprintf("Approvals waiting for me (%d)", n)) {
		t.Errorf("/ lists %d approvals, want %d of %d", got, web.PageSize, n)
	}
	wantPager(t, "/", p, "", "/?apage=2#approvals")
	p = f.get("/?apage=2", manager)
	if got := rows(p); p.status != 200 || got != 5 {
		t.Errorf("/?apage=2: %d, %d approvals, want 5", p.status, got)
	}
	wantPager(t, "/?apage=2", p, "/?apage=1#approvals", "")
	if p := f.get("/?apage=x", manager); p.status != 400 || !strings.Contains(p.body, "apage") {
		t.Errorf("/?apage=x: %d, want 400 naming apage", p.status)
	}
}

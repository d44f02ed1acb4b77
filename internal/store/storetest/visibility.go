package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
)

// testRejectedImportStoredAlone: a rejected import is kept with its errors
// and nothing else.
func testRejectedImportStoredAlone(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	load(t, st, "imp_1", 0, person("A1", "Eng", ""))
	before, _ := st.Workforce(ctx, "hris")
	headBefore, _, _ := st.AuditHead(ctx)
	imp := store.Import{ID: "imp_bad", Source: "hris", File: "people.csv", SHA256: "ab12", Status: store.ImportRejected,
		Actor: "cli:hr", Rows: 3, CreatedAt: t0.Add(time.Hour), Reason: "2 error(s)",
		Errors: []store.ImportError{{Row: 2, Column: "email", Message: `"x@" is not an e-mail address`}, {Message: "no rows"}}}
	if err := st.RejectImport(ctx, imp, store.ImportEntry(imp, "hr.import.rejected", "cli:hr", imp.CreatedAt)); err != nil {
		t.Fatal(err)
	}
	got, err := st.Import(ctx, "imp_bad")
	if err != nil || got.Status != store.ImportRejected || len(got.Errors) != 2 || got.Errors[0] != imp.Errors[0] || got.Errors[1].Message != "no rows" || got.File != "people.csv" {
		t.Fatalf("Import(imp_bad) = %+v, %v", got, err)
	}
	list, err := st.ImportsBy(ctx, store.ImportFilter{Status: store.ImportRejected})
	if err != nil || len(list) != 1 || list[0].ID != "imp_bad" || len(list[0].Errors) != 2 {
		t.Fatalf("ImportsBy(rejected) = %+v, %v", list, err)
	}
	if list, _ := st.ImportsBy(ctx, store.ImportFilter{Status: store.ImportApplied}); len(list) != 1 || list[0].ID != "imp_1" {
		t.Fatalf("ImportsBy(applied) = %+v", list)
	}
	if list, _ := st.ImportsBy(ctx, store.ImportFilter{Source: "hris"}); len(list) != 2 || list[0].ID != "imp_bad" {
		t.Fatalf("ImportsBy(source) = %+v, want both, newest first", list)
	}
	// A page: skip Offset rows of the newest-first list.
	if list, _ := st.ImportsBy(ctx, store.ImportFilter{Source: "hris", Offset: 1, Limit: 1}); len(list) != 1 || list[0].ID != "imp_1" {
		t.Fatalf("ImportsBy(offset 1, limit 1) = %+v, want the older imp_1", list)
	}
	if list, _ := st.ImportsBy(ctx, store.ImportFilter{Offset: 2}); len(list) != 0 {
		t.Fatalf("ImportsBy(offset 2) = %+v, want none", list)
	}
	// Nothing else changed: persons, serial, events; one audit entry more.
	after, _ := st.Workforce(ctx, "hris")
	if after.Serial != before.Serial || len(after.Persons) != 1 || after.Held != "" {
		t.Fatalf("workforce changed by a rejected import: %+v -> %+v", before, after)
	}
	if evs, _ := st.Events(ctx, store.EventFilter{ImportID: "imp_bad"}); len(evs) != 0 {
		t.Fatalf("rejected import has events: %+v", evs)
	}
	head, _, _ := st.AuditHead(ctx)
	if head != headBefore+1 {
		t.Fatalf("audit head %d -> %d, want one entry more", headBefore, head)
	}
	if br := verify(t, st); br != nil {
		t.Fatalf("chain broken: %v", br)
	}
	// A rejected import does not block the next one.
	if err := st.ApplyImport(ctx, store.Import{ID: "imp_2", Source: "hris", Status: store.ImportApplied, Actor: "test", CreatedAt: t0.Add(2 * time.Hour), BaseSerial: after.Serial}, nil, nil, nil, nil); err != nil {
		t.Fatalf("import after a rejected one: %v", err)
	}
	if err := st.RejectImport(ctx, store.Import{ID: "imp_x", Source: "hris", Status: store.ImportApplied}, audit.Entry{}); err == nil {
		t.Fatal("RejectImport took an import that is not rejected")
	}
}

// testAuditQuery: the audit trail is read by actor, action and time, page
// by page.
func testAuditQuery(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	var ents []audit.Entry
	for i := range 30 {
		actor, action := "cli:ann", "hr.joiner"
		switch i % 3 {
		case 1:
			actor, action = "token:hris", "hr.import.applied"
		case 2:
			actor, action = "system:provision", "provision.create"
		}
		ents = append(ents, audit.New(t0.Add(time.Duration(i)*time.Minute), actor, action, "hris", "", fmt.Sprintf("P%02d", i), nil, nil))
	}
	// a look-alike that a prefix must not catch
	ents = append(ents, audit.New(t0.Add(time.Hour), "cli:ann", "hrx.other", "", "", "", nil, nil))
	if err := st.AppendAudit(ctx, ents...); err != nil {
		t.Fatal(err)
	}
	q := func(f store.AuditFilter) []audit.Entry {
		t.Helper()
		got, err := st.AuditQuery(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := q(store.AuditFilter{Actor: "token:hris"}); len(got) != 10 || got[0].Action != "hr.import.applied" {
		t.Fatalf("by actor: %d entries", len(got))
	}
	if got := q(store.AuditFilter{Action: "hr"}); len(got) != 20 {
		t.Fatalf("by action prefix hr: %d entries, want 20", len(got))
	}
	if got := q(store.AuditFilter{Action: "hr.import.applied"}); len(got) != 10 {
		t.Fatalf("by exact action: %d entries, want 10", len(got))
	}
	if got := q(store.AuditFilter{Action: "hr.import"}); len(got) != 10 {
		t.Fatalf("by action prefix hr.import: %d entries, want 10", len(got))
	}
	// Newest first, paged with Before.
	if got := q(store.AuditFilter{Actor: "cli:ann", Newest: true, Limit: 3}); len(got) != 3 || got[0].Action != "hrx.other" || got[1].Subject != "P27" || got[2].Subject != "P24" {
		t.Fatalf("newest first: %+v", got)
	} else if more := q(store.AuditFilter{Actor: "cli:ann", Newest: true, Before: got[2].Seq, Limit: 2}); len(more) != 2 || more[0].Subject != "P21" || more[1].Subject != "P18" {
		t.Fatalf("newest first, before %d: %+v", got[2].Seq, more)
	}
	if got := q(store.AuditFilter{Subject: "P07"}); len(got) != 1 || got[0].Subject != "P07" {
		t.Fatalf("by subject: %+v", got)
	}
	if got := q(store.AuditFilter{Source: "hris", Action: "provision"}); len(got) != 10 {
		t.Fatalf("by source: %d entries, want 10", len(got))
	}
	if got := q(store.AuditFilter{Subject: "P0"}); len(got) != 0 {
		t.Fatalf("a subject matches exactly: %d entries", len(got))
	}
	if got := q(store.AuditFilter{Subject: "P04", Action: "provision"}); len(got) != 0 {
		t.Fatalf("by subject P04 and action provision: %d entries, want 0", len(got))
	}
	if got := q(store.AuditFilter{Since: t0.Add(27 * time.Minute)}); len(got) != 4 || got[0].Subject != "P27" {
		t.Fatalf("since: %d entries", len(got))
	}
	// Pages of 4 with the cursor cover every matching entry once, in order.
	var seen []string
	var after int64
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		page := q(store.AuditFilter{Actor: "cli:ann", Action: "hr", After: after, Limit: 4})
		for _, e := range page {
			seen = append(seen, e.Subject)
		}
		if len(page) < 4 {
			break
		}
		after = page[len(page)-1].Seq
	}
	if len(seen) != 10 || seen[0] != "P00" || seen[9] != "P27" {
		t.Fatalf("paged: %v", seen)
	}
}

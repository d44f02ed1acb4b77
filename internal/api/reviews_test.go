package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// A reviewer lists the items they review and decides them; a revoke
// needs a reason, an item is decided once.
func TestReviewerListsAndDecidesTheirItems(t *testing.T) {
	f := newPermFixture(t, "M1")
	camp := f.ids["GET /api/v1/reviews/{id}/items"]
	item := f.ids["POST /api/v1/reviews/items/{id}/decide"]
	if status, body := f.call("GET", "/api/v1/reviews/"+camp+"/items", f.token, ""); status != 403 || !strings.Contains(body, "reviews.read") {
		t.Fatalf("every item without reviews.read: %d %s", status, body)
	}
	if status, body := f.call("GET", "/api/v1/reviews/"+camp+"/items?reviewer=Z1", f.token, ""); status != 403 {
		t.Fatalf("someone else's items: %d %s", status, body)
	}
	status, body := f.call("GET", "/api/v1/reviews/"+camp+"/items?reviewer=M1", f.token, "")
	var page struct{ Items []store.ReviewItem }
	if err := json.Unmarshal([]byte(body), &page); status != 200 || err != nil || len(page.Items) != 1 || page.Items[0].EmployeeID != "E1" {
		t.Fatalf("own items: %d %s", status, body)
	}
	if status, body := f.call("POST", "/api/v1/reviews/items/"+item+"/decide", f.token, `{"decision":"revoke"}`); status != 422 || !strings.Contains(body, "reason") {
		t.Fatalf("revoke without a reason: %d %s", status, body)
	}
	if status, body := f.call("POST", "/api/v1/reviews/items/"+item+"/decide", f.token, `{"decision":"revoke","reason":"moved","extra":1}`); status != 400 {
		t.Fatalf("unknown field: %d %s", status, body)
	}
	status, body = f.call("POST", "/api/v1/reviews/items/"+item+"/decide", f.token, `{"decision":"revoke","reason":"moved to sales"}`)
	var it store.ReviewItem
	if err := json.Unmarshal([]byte(body), &it); status != 200 || err != nil || it.State != store.ItemRevoking || it.DecidedBy != "M1" {
		t.Fatalf("revoke: %d %s", status, body)
	}
	if status, body := f.call("POST", "/api/v1/reviews/items/"+item+"/decide", f.token, `{"decision":"keep"}`); status != 409 {
		t.Fatalf("deciding twice: %d %s", status, body)
	}
	revs, err := f.st.Revocations(t.Context(), "", true)
	if err != nil || len(revs) != 1 || revs[0].EmployeeID != "E1" || revs[0].Entitlement != "reports" {
		t.Fatalf("revocations: %+v %v", revs, err)
	}
}

// A reviewer modifies an item to a narrower entitlement: the item names
// it and the access request that grants it; the same entitlement, or a
// modify without one, is refused.
func TestReviewerModifiesAnItem(t *testing.T) {
	f := newPermFixture(t, "M1")
	item := f.ids["POST /api/v1/reviews/items/{id}/decide"]
	url := "/api/v1/reviews/items/" + item + "/decide"
	if status, body := f.call("POST", url, f.token, `{"decision":"modify","reason":"narrower"}`); status != 422 || !strings.Contains(body, "entitlement") {
		t.Fatalf("modify without an entitlement: %d %s", status, body)
	}
	if status, body := f.call("POST", url, f.token, `{"decision":"modify","entitlement":"reports","reason":"narrower"}`); status != 422 || !strings.Contains(body, "the one reviewed") {
		t.Fatalf("modify to the same entitlement: %d %s", status, body)
	}
	status, body := f.call("POST", url, f.token, `{"decision":"modify","entitlement":"exports","reason":"exports only"}`)
	var it store.ReviewItem
	if err := json.Unmarshal([]byte(body), &it); status != 200 || err != nil || it.Decision != store.DecisionModify || it.NewEntitlement != "exports" || it.Request == 0 {
		t.Fatalf("modify: %d %s", status, body)
	}
	r, err := f.st.Request(t.Context(), it.Request)
	if err != nil || r.State != store.RequestApproved || r.ReviewItem != it.ID || r.Entitlement != "exports" {
		t.Fatalf("the modify's request: %+v %v", r, err)
	}
}

// An item escalated to a manager near the deadline: they list it with
// ?escalated_to= themself (not someone else's) and decide it.
func TestEscalatedItemListedAndDecidedByTheManager(t *testing.T) {
	f := newPermFixture(t, "M1")
	camp := f.ids["GET /api/v1/reviews/{id}/items"]
	var campID int64
	if _, err := fmt.Sscan(camp, &campID); err != nil {
		t.Fatal(err)
	}
	// X1's access, reviewed by Z1, escalated to M1.
	ctx := t.Context()
	if err := f.st.InTx(ctx, func(tx store.Tx) error {
		return tx.InsertReviewItems([]store.ReviewItem{{Campaign: campID, Source: "hris", EmployeeID: "X1", App: "erp", Entitlement: "reports",
			Origin: store.OriginUnknown, Reviewer: "Z1", State: store.ItemPending}})
	}); err != nil {
		t.Fatal(err)
	}
	its, err := f.st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: campID, Reviewer: "Z1"})
	if err != nil || len(its) != 1 {
		t.Fatalf("Z1's item: %+v %v", its, err)
	}
	x1 := fmt.Sprint(its[0].ID)
	if status, body := f.call("POST", "/api/v1/reviews/items/"+x1+"/decide", f.token, `{"decision":"keep"}`); status != 403 {
		t.Fatalf("M1 decides Z1's item before any escalation: %d %s, want 403", status, body)
	}
	if err := f.st.InTx(ctx, func(tx store.Tx) error { _, err := tx.EscalateReviewItem(its[0].ID, "M1", time.Now()); return err }); err != nil {
		t.Fatal(err)
	}
	if status, body := f.call("GET", "/api/v1/reviews/"+camp+"/items?escalated_to=Z1", f.token, ""); status != 403 {
		t.Fatalf("items escalated to someone else: %d %s, want 403", status, body)
	}
	status, body := f.call("GET", "/api/v1/reviews/"+camp+"/items?escalated_to=M1&state=pending", f.token, "")
	var page struct{ Items []store.ReviewItem }
	if err := json.Unmarshal([]byte(body), &page); status != 200 || err != nil || len(page.Items) != 1 || page.Items[0].EmployeeID != "X1" ||
		page.Items[0].EscalatedTo != "M1" || page.Items[0].EscalatedAt.IsZero() {
		t.Fatalf("items escalated to M1: %d %s", status, body)
	}
	if status, body := f.call("POST", "/api/v1/reviews/items/"+x1+"/decide", f.token, `{"decision":"keep"}`); status != 200 || !strings.Contains(body, `"decided_by": "M1"`) {
		t.Fatalf("M1 decides the escalated item: %d %s", status, body)
	}
}

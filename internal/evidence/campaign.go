package evidence

import (
	"cmp"
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// CampaignStore is what the export of a review campaign reads.
type CampaignStore interface {
	Campaign(ctx context.Context, id int64) (store.Campaign, error)
	ReviewItems(ctx context.Context, f store.ReviewItemFilter) ([]store.ReviewItem, error)
}

// Campaign is the evidence of one access review: every item (person,
// access, origin, reviewer, decision, reason, when, the operation that
// removed it and when reconcile found it gone; a modify's new entitlement
// and the request granting it; the account's last activity), the
// reviewers' tallies,
// and the snapshot's digest recorded at launch.
func Campaign(ctx context.Context, st CampaignStore, id int64, loc *time.Location) (Bundle, error) {
	if loc == nil {
		loc = time.UTC
	}
	c, err := st.Campaign(ctx, id)
	if err != nil {
		return Bundle{}, fmt.Errorf("campaign %d: %w", id, err)
	}
	items, err := st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: id})
	if err != nil {
		return Bundle{}, err
	}
	scope := c.Kind
	if c.App != "" {
		scope += " " + c.App
	}
	if c.Entitlement != "" {
		scope += " / " + c.Entitlement
	}
	b := Bundle{Kind: "campaign", Title: fmt.Sprintf("Access review %d: %s", c.ID, scope),
		Params: map[string]string{"campaign": strconv.FormatInt(c.ID, 10)}, SnapshotDigest: c.Digest}
	tab := Table{Name: "items", Header: []string{"campaign", "item", "source", "employee_id", "display_name", "app", "entitlement",
		"origin", "why", "reviewer", "team", "recommendation", "sod_conflict", "decision", "reason", "decided_by", "decided_at",
		"automatic", "late", "state", "removal_operation", "task", "verified_at", "evidence",
		"new_entitlement", "grant_request", "last_activity", "inactive_days", "escalated_to", "escalated_at"}}
	type tally struct{ items, decided, kept, revoked, automatic, late int }
	reviewers := map[string]*tally{}
	var kept, revoked, modified, verified, pending, automatic, late, sodKept int
	var notes []string
	for _, it := range items {
		who := it.Reviewer
		if who == "" {
			who = "team " + it.Team
		}
		t := reviewers[who]
		if t == nil {
			t = &tally{}
			reviewers[who] = t
		}
		t.items++
		isLate := !it.DecidedAt.IsZero() && !c.DueAt.IsZero() && it.DecidedAt.After(c.DueAt) && !it.Automatic
		switch it.Decision {
		case store.DecisionKeep:
			kept++
			t.kept++
			if it.SoD != "" {
				sodKept++
				notes = append(notes, fmt.Sprintf("item %d: %s keeps %s %s despite a separation-of-duties conflict (%s)", it.ID, it.EmployeeID, it.App, it.Entitlement, it.SoD))
			}
		case store.DecisionRevoke, store.DecisionModify:
			// A modify revokes the reviewed access as a revoke does.
			revoked++
			t.revoked++
			if it.Decision == store.DecisionModify {
				modified++
			}
			if it.State == store.ItemVerified {
				verified++
			} else {
				notes = append(notes, fmt.Sprintf("item %d: %s's %s %s was revoked but is not verified gone yet (%s)", it.ID, it.EmployeeID, it.App, it.Entitlement, it.State))
			}
		default:
			pending++
		}
		if it.Decision != "" {
			t.decided++
		}
		if it.Automatic {
			automatic++
			t.automatic++
		}
		if isLate {
			late++
			t.late++
		}
		tab.Rows = append(tab.Rows, []string{strconv.FormatInt(c.ID, 10), strconv.FormatInt(it.ID, 10), it.Source, it.EmployeeID, it.Name,
			it.App, it.Entitlement, it.Origin, it.Why, it.Reviewer, it.Team, it.Recommendation, it.SoD, it.Decision, it.Reason,
			it.DecidedBy, stamp(it.DecidedAt, loc), yes(it.Automatic), yes(isLate), it.State, idOrEmpty(it.Operation),
			idOrEmpty(it.Task), stamp(it.VerifiedAt, loc), it.Evidence,
			it.NewEntitlement, idOrEmpty(it.Request), stamp(it.LastActivity, loc), inactiveDays(it), it.EscalatedTo, stamp(it.EscalatedAt, loc)})
	}
	rt := Table{Name: "reviewers", Header: []string{"reviewer", "items", "decided", "kept", "revoked", "automatic", "late"}}
	names := make([]string, 0, len(reviewers))
	for n := range reviewers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := reviewers[n]
		rt.Rows = append(rt.Rows, []string{n, strconv.Itoa(t.items), strconv.Itoa(t.decided), strconv.Itoa(t.kept),
			strconv.Itoa(t.revoked), strconv.Itoa(t.automatic), strconv.Itoa(t.late)})
	}
	b.Tables = []Table{tab, rt}
	b.Summary = []Line{
		{"Campaign", fmt.Sprintf("%d (%s), %s", c.ID, scope, c.State)},
		{"Started", stamp(c.CreatedAt, loc) + " by " + c.CreatedBy},
		{"Due", stamp(c.DueAt, loc)},
		{"Closed", cmp.Or(stamp(c.ClosedAt, loc), "not yet (open)")},
		{"Complete (all removals verified)", cmp.Or(stamp(c.CompletedAt, loc),
			fmt.Sprintf("not yet: %d of %d revocation(s) verified gone", verified, revoked))},
		{"Undecided items at the deadline", c.Policy},
		{"Items", strconv.Itoa(len(items))},
		{"Kept", strconv.Itoa(kept)},
		{"Revoked", strconv.Itoa(revoked)},
		{"Of those, modified (a narrower entitlement granted)", strconv.Itoa(modified)},
		{"Revoked and verified gone", strconv.Itoa(verified)},
		{"Undecided", strconv.Itoa(pending)},
		{"Decided automatically", strconv.Itoa(automatic)},
		{"Decided late", strconv.Itoa(late)},
		{"Kept despite SoD conflict", strconv.Itoa(sodKept)},
		{"Reviewers", strconv.Itoa(len(reviewers))},
	}
	if len(notes) > 50 {
		notes = append(notes[:50], fmt.Sprintf("… and %d more (items.csv lists every item)", len(notes)-50))
	}
	b.Notes = notes
	return b, nil
}

// inactiveDays is the item's days of inactivity before the start, empty
// when the app does not report activity.
func inactiveDays(it store.ReviewItem) string {
	if it.LastActivity.IsZero() {
		return ""
	}
	return strconv.Itoa(it.InactiveDays)
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

func idOrEmpty(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

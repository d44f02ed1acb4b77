package web

import (
	"archive/zip"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/evidence"
	"github.com/tango-iga/tango/internal/review"
	"github.com/tango-iga/tango/internal/store"
)

// reviewPages are the access-review pages (internal/review), appended to
// Table: the campaigns, one campaign's items, a reviewer's decisions and
// the evidence bundle for auditors.
var reviewPages = []Page{
	{"GET", "/reviews", authz.ReviewsRead, (*Pages).reviews},
	{"POST", "/reviews", authz.ReviewsManage, (*Pages).startReview},
	{"GET", "/reviews/{id}", authz.SignedIn, (*Pages).reviewCampaign},
	{"POST", "/reviews/{id}/close", authz.ReviewsManage, (*Pages).closeReview},
	{"GET", "/reviews/{id}/evidence.zip", authz.EvidenceRead, (*Pages).reviewEvidence},
	{"POST", "/reviews/items/{id}/decide", authz.SignedIn, (*Pages).decideReviewItem},
}

func init() {
	Table = append(Table, reviewPages...)
	// Reviews follows Requests in the navigation.
	i := slices.IndexFunc(nav, func(n navItem) bool { return n.Href == "/requests" }) + 1
	nav = slices.Insert(nav, i, navItem{"/reviews", "Reviews", can(authz.ReviewsRead)})
}

// maxReviewRows bounds what one query of a reviewer's items reads (the
// inbox counts up to it).
const maxReviewRows = 10000

// reviewService is the review service, or a 503 when the config's policy
// did not compile.
func (p *Pages) reviewService(w http.ResponseWriter) (*review.Service, bool) {
	if p.o.Reviews == nil {
		ErrorPage(w, http.StatusServiceUnavailable, "access reviews are unavailable: the config's policy does not compile (see the server log)")
		return nil, false
	}
	return p.o.Reviews, true
}

type campaignRow struct {
	store.Campaign
	store.ReviewCount
	Scope   string
	Overdue bool
}

type reviewsData struct {
	Campaigns []campaignRow
	Pager     pager
	CanStart  bool
	Kinds     []string
	Apps      []string
	State     string
	States    []string
}

func scope(c store.Campaign) string {
	s := c.Kind
	if c.App != "" {
		s += " · " + c.App
	}
	if c.Entitlement != "" {
		s += " / " + c.Entitlement
	}
	if c.Team != "" {
		s += " (team " + c.Team + ")"
	}
	return s
}

// reviews lists the campaigns (?state=, paged), newest first, with where
// their items stand, and the form that starts one for reviews.manage.
func (p *Pages) reviews(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	n, err := pageParam(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d := reviewsData{State: r.URL.Query().Get("state"), CanStart: authz.From(ctx).Can(authz.ReviewsManage),
		Kinds:  []string{store.ReviewManager, store.ReviewApp, store.ReviewEntitlement},
		States: []string{store.CampaignOpen, store.CampaignClosed, store.CampaignComplete}}
	if d.State != "" && !slices.Contains(d.States, d.State) {
		p.fail(w, r, invalid("state %q: want open, closed or complete", d.State))
		return
	}
	for _, a := range p.o.Config.Apps {
		d.Apps = append(d.Apps, a.Name)
	}
	cs, err := p.o.Store.Campaigns(ctx, d.State)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	cs, d.Pager = cut(r, cs, n)
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	counts, err := p.o.Store.ReviewCounts(ctx, ids)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	now := p.o.Now()
	for _, c := range cs {
		d.Campaigns = append(d.Campaigns, campaignRow{Campaign: c, ReviewCount: counts[c.ID], Scope: scope(c),
			Overdue: c.State == store.CampaignOpen && c.DueAt.Before(now)})
	}
	p.render(w, r, http.StatusOK, "reviews", "Access reviews", d)
}

// startReview starts a campaign from the form (kind, app, entitlement,
// due as a length of time such as 14d).
func (p *Pages) startReview(w http.ResponseWriter, r *http.Request) {
	svc, ok := p.reviewService(w)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, invalid("reading the form: %v", err))
		return
	}
	var due time.Duration
	if v := strings.TrimSpace(r.PostFormValue("due")); v != "" {
		d, err := config.ParseDuration(v)
		if err != nil || d <= 0 {
			p.fail(w, r, invalid("due %q: want a length of time such as 14d", v))
			return
		}
		due = d
	}
	c, _, err := svc.Start(r.Context(), review.StartOptions{Kind: r.PostFormValue("kind"), App: r.PostFormValue("app"),
		Entitlement: r.PostFormValue("entitlement"), Undecided: r.PostFormValue("undecided"), Due: due,
		Actor: authz.From(r.Context()).Actor()})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	seeOther(w, r, fmt.Sprintf("/reviews/%d", c.ID), fmt.Sprintf("Campaign %d started: %d item(s) to review.", c.ID, c.Items))
}

// itemRow is an item as the campaign page shows it, and whether the
// caller may decide it there.
type itemRow struct {
	store.ReviewItem
	CanDecide bool
}

type campaignData struct {
	Campaign campaignRow
	Items    []itemRow
	Pager    pager
	// Filters, kept in the URL.
	Reviewer, State string
	Mine            bool
	// OnlyMine: the caller has no reviews.read and sees their items only.
	OnlyMine                         bool
	States                           []string
	CanClose, CanExport, AnyDecision bool
	Back                             string // this page, for the forms to come back to
}

var itemStates = []string{store.ItemPending, store.ItemKept, store.ItemRevoking, store.ItemWaiting, store.ItemVerified}

// standingIn are the reviewers the caller stands in for: their reports
// who are away or have left (review.Service.StandIns, from the other side).
func (p *Pages) standingIn(ctx context.Context, me authz.Principal) (map[string]bool, error) {
	out := map[string]bool{}
	if me.Person == "" {
		return out, nil
	}
	reports, err := p.o.Store.Persons(ctx, store.PersonFilter{ManagerID: me.Person, Limit: 1000})
	if err != nil {
		return nil, err
	}
	now := p.o.Now()
	for _, rp := range reports {
		if rp.Status == store.StatusLeft {
			out[rp.EmployeeID] = true
			continue
		}
		away, err := p.o.Store.AwayUntil(ctx, rp.EmployeeID)
		if err != nil {
			return nil, err
		}
		if away.After(now) {
			out[rp.EmployeeID] = true
		}
	}
	return out, nil
}

// myItems are the items of f the caller may decide (ActOnReviewItem):
// theirs as reviewer, their teams', those escalated to them, and those of
// the reviewers they stand in for; never their own access. Each query reads at most f.Limit rows,
// so the first f.Limit of the union, by ID, are exact.
func (p *Pages) myItems(ctx context.Context, me authz.Principal, standFor map[string]bool, f store.ReviewItemFilter) ([]store.ReviewItem, error) {
	if me.Person == "" {
		return nil, nil
	}
	queries := []store.ReviewItemFilter{{Reviewer: me.Person}, {EscalatedTo: me.Person}}
	for _, t := range slices.Concat(me.Teams, me.Leads) {
		queries = append(queries, store.ReviewItemFilter{Team: t})
	}
	for rv := range standFor {
		queries = append(queries, store.ReviewItemFilter{Reviewer: rv})
	}
	seen := map[int64]bool{}
	var out []store.ReviewItem
	for _, q := range queries {
		if f.Reviewer != "" && q.Reviewer != "" && q.Reviewer != f.Reviewer {
			continue
		}
		q.Reviewer = cmp.Or(q.Reviewer, f.Reviewer)
		q.Campaign, q.State, q.Limit = f.Campaign, f.State, f.Limit
		items, err := p.o.Store.ReviewItems(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if seen[it.ID] || it.EmployeeID == me.Person {
				continue
			}
			seen[it.ID] = true
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b store.ReviewItem) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func mayDecide(me authz.Principal, standFor map[string]bool, it store.ReviewItem) bool {
	var standIns []string
	if standFor[it.Reviewer] {
		standIns = []string{me.Person}
	}
	return me.ActOnReviewItem(it, standIns) == nil
}

// reviewCampaign shows one campaign and its items, paged and filtered in
// the URL (?reviewer=, ?state=, ?mine=1, ?page=). With reviews.read every
// item; a reviewer without it sees the campaign only through their own
// items (the ones they may decide), and only those. Each pending item the
// caller may decide has Keep and Revoke (and Modify, for an entitlement).
func (p *Pages) reviewCampaign(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me := authz.From(ctx)
	id, err := idParam(r, "campaign")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	n, err := pageParam(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d := campaignData{Reviewer: strings.TrimSpace(q.Get("reviewer")), State: q.Get("state"), Mine: q.Get("mine") == "1",
		States: itemStates, CanClose: me.Can(authz.ReviewsManage), CanExport: me.Can(authz.EvidenceRead)}
	if d.State != "" && !slices.Contains(itemStates, d.State) {
		p.fail(w, r, invalid("state %q: want one of %s", d.State, strings.Join(itemStates, ", ")))
		return
	}
	if len(d.Reviewer) > 100 {
		p.fail(w, r, invalid("reviewer: %d characters, at most 100", len(d.Reviewer)))
		return
	}
	c, err := p.o.Store.Campaign(ctx, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	standFor, err := p.standingIn(ctx, me)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	f := store.ReviewItemFilter{Campaign: id, Reviewer: d.Reviewer, State: d.State, Limit: n*PageSize + 1}
	var items []store.ReviewItem
	if me.Can(authz.ReviewsRead) && !d.Mine {
		items, err = p.o.Store.ReviewItems(ctx, f)
	} else {
		d.OnlyMine = !me.Can(authz.ReviewsRead)
		d.Mine = true
		if d.OnlyMine {
			// A reviewer sees the campaign only when they have items in it
			// (whatever the filters).
			var some []store.ReviewItem
			some, err = p.myItems(ctx, me, standFor, store.ReviewItemFilter{Campaign: id, Limit: 100})
			if err == nil && len(some) == 0 {
				p.o.Host.Deny(w, r, authz.Forbidden("%s may not see campaign %d: only its reviewers (their own items) or a role with %s may",
					me.Describe(), id, authz.ReviewsRead))
				return
			}
		}
		if err == nil {
			items, err = p.myItems(ctx, me, standFor, f)
		}
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	counts, err := p.o.Store.ReviewCounts(ctx, []int64{id})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d.Campaign = campaignRow{Campaign: c, ReviewCount: counts[id], Scope: scope(c), Overdue: c.State == store.CampaignOpen && c.DueAt.Before(p.o.Now())}
	d.CanClose = d.CanClose && c.State == store.CampaignOpen
	page, pg := cut(r, items, n)
	d.Pager = pg
	for _, it := range page {
		row := itemRow{ReviewItem: it, CanDecide: c.State == store.CampaignOpen && it.State == store.ItemPending && mayDecide(me, standFor, it)}
		d.AnyDecision = d.AnyDecision || row.CanDecide
		d.Items = append(d.Items, row)
	}
	q.Del("done")
	d.Back = r.URL.Path
	if len(q) > 0 {
		d.Back += "?" + q.Encode()
	}
	p.render(w, r, http.StatusOK, "review", fmt.Sprintf("Access review %d: %s", c.ID, d.Campaign.Scope), d)
}

// back is where a form returns to: the campaign page it came from (with
// its filters) when the form says so, else the caller's items.
func back(r *http.Request, campaign int64) string {
	to := r.PostFormValue("back")
	prefix := fmt.Sprintf("/reviews/%d", campaign)
	if to == prefix || strings.HasPrefix(to, prefix+"?") {
		return to
	}
	return prefix + "?mine=1"
}

// decideReviewItem keeps, revokes or modifies an item (the form's
// decision, with a reason a revoke or modify needs, and a modify's
// narrower entitlement). The rule is the service's: the item's reviewer,
// a stand-in for them, a member of its team, never on one's own access;
// a refusal is audited. A revocation is planned at once.
func (p *Pages) decideReviewItem(w http.ResponseWriter, r *http.Request) {
	svc, ok := p.reviewService(w)
	if !ok {
		return
	}
	id, err := idParam(r, "review item")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, invalid("reading the form: %v", err))
		return
	}
	d := review.Decision{Decision: r.PostFormValue("decision"), Reason: r.PostFormValue("reason")}
	if d.Decision == store.DecisionModify {
		// The entitlement field is on every item's form: only a modify reads it.
		d.Entitlement = r.PostFormValue("entitlement")
	}
	it, err := svc.DecideItem(r.Context(), authz.From(r.Context()), id, d)
	if domain.KindOf(err) == domain.KindForbidden {
		p.o.Host.Deny(w, r, err)
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if it.Removes() {
		p.o.Host.RevocationsDecided(r.Context())
	}
	if it.Decision == store.DecisionModify {
		p.o.Host.RequestsDecided(r.Context()) // the narrower entitlement's grant
	}
	what := "access"
	if it.Entitlement != "" {
		what = it.Entitlement
	}
	msg := fmt.Sprintf("Item %d: %s's %s %s: %s.", it.ID, it.EmployeeID, it.App, what, it.State)
	if it.NewEntitlement != "" {
		msg = fmt.Sprintf("Item %d: %s's %s %s: %s, modified to %s (request %d).", it.ID, it.EmployeeID, it.App, what, it.State, it.NewEntitlement, it.Request)
	}
	seeOther(w, r, back(r, it.Campaign), msg)
}

// closeReview closes an open campaign: undecided items follow its policy
// and the revocations are planned.
func (p *Pages) closeReview(w http.ResponseWriter, r *http.Request) {
	svc, ok := p.reviewService(w)
	if !ok {
		return
	}
	id, err := idParam(r, "campaign")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	c, err := svc.Close(r.Context(), id, authz.From(r.Context()).Actor())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.o.Host.RevocationsDecided(r.Context())
	seeOther(w, r, fmt.Sprintf("/reviews/%d", c.ID), fmt.Sprintf("Campaign %d is closed: undecided items became %s; revocations are verified by read-back.", c.ID, c.Policy))
}

// reviewEvidence answers the campaign's evidence bundle as a zip: written
// into a temporary directory by evidence.Export (the evidence.exported
// audit entry naming the caller, and the signed checkpoint when
// audit.checkpoint is configured), zipped, removed.
func (p *Pages) reviewEvidence(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := idParam(r, "campaign")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	b, err := evidence.Campaign(ctx, p.o.Store, id, p.o.Config.Location())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	tmp, err := os.MkdirTemp("", "tango-evidence-")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	defer os.RemoveAll(tmp)
	m, err := evidence.Export(ctx, p.o.Store, p.o.Config, b, authz.From(ctx).Actor(), tmp, p.o.Now)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	name := fmt.Sprintf("campaign-%d-evidence", id)
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.zip"`)
	w.Header().Set("Cache-Control", "no-store")
	zw := zip.NewWriter(w)
	files := []string{evidence.ManifestName}
	for _, f := range m.Files {
		files = append(files, f.Name)
	}
	for _, f := range files {
		if err := addFile(zw, filepath.Join(tmp, f), name+"/"+f, m.CreatedAt); err != nil {
			// The answer has started: the zip is cut short, which the
			// auditor's unzip reports.
			p.o.Log.Error("writing the evidence zip", "campaign", id, "file", f, "err", err)
			return
		}
	}
	if err := zw.Close(); err != nil {
		p.o.Log.Error("writing the evidence zip", "campaign", id, "err", err)
	}
}

// addFile adds the file at path to zw as name, dated at (the bundle's
// generation time: unzip shows when it was made).
func addFile(zw *zip.Writer, path, name string, at time.Time) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	out, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: at})
	if err != nil {
		return err
	}
	_, err = io.Copy(out, fh)
	return err
}

// reviewWait is a campaign with items waiting for the caller's decision
// (the inbox).
type reviewWait struct {
	Campaign int64
	Pending  int
}

// pendingReviews counts the caller's pending review items by campaign.
func (p *Pages) pendingReviews(ctx context.Context, me authz.Principal) ([]reviewWait, error) {
	if me.Person == "" {
		return nil, nil
	}
	// Most of the time no campaign is open: one indexed read, instead of
	// the stand-ins (a read per direct report) and the item queries.
	open, err := p.o.Store.Campaigns(ctx, store.CampaignOpen)
	if err != nil || len(open) == 0 {
		return nil, err
	}
	standFor, err := p.standingIn(ctx, me)
	if err != nil {
		return nil, err
	}
	items, err := p.myItems(ctx, me, standFor, store.ReviewItemFilter{State: store.ItemPending, Limit: maxReviewRows})
	if err != nil {
		return nil, err
	}
	var out []reviewWait
	for _, it := range items {
		i := slices.IndexFunc(out, func(w reviewWait) bool { return w.Campaign == it.Campaign })
		if i < 0 {
			out = append(out, reviewWait{Campaign: it.Campaign})
			i = len(out) - 1
		}
		out[i].Pending++
	}
	return out, nil
}

package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/store"
	"sync"
)

type appRow struct {
	Name, Connector, Owner string
	Health                 store.AppState
	Quarantined            bool
	Ops                    map[string]int
	Findings               int // open findings
}

// apps shows each app's connector health, quarantine and queue by state.
func (pg *Pages) apps(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	states, err := pg.o.Store.AppStates(ctx)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	counts, err := pg.o.Store.OpCounts(ctx)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	findings, err := pg.o.Store.FindingCounts(ctx, "open")
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	health := map[string]store.AppState{}
	for _, s := range states {
		health[s.App] = s
	}
	now := pg.o.Now()
	var rows []appRow
	for _, a := range pg.o.Config.Apps {
		h := health[a.Name]
		rows = append(rows, appRow{Name: a.Name, Connector: a.Connector, Owner: a.Owner, Health: h, Quarantined: h.QuarantinedUntil.After(now),
			Ops: counts[a.Name], Findings: findings[a.Name]})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	var troubled []store.Operation
	for _, state := range []string{store.OpRetrying, store.OpFailed} {
		ops, err := pg.o.Store.Ops(ctx, store.OpFilter{State: state, Limit: 100})
		if err != nil {
			pg.fail(w, r, err)
			return
		}
		troubled = append(troubled, ops...)
	}
	pg.render(w, r, http.StatusOK, "apps", "Apps", struct {
		Apps     []appRow
		States   []string
		Troubled []store.Operation
		CanAct   bool // retry and release (operations.write)
	}{rows, store.OpStates, troubled, authz.From(ctx).Can(authz.OpsWrite)})
}

// retryOperation makes a failed or retrying operation pending again, due
// now (provision.Retry, as POST /api/v1/operations/{id}/retry), and
// answers with /apps.
func (pg *Pages) retryOperation(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "operation")
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	op, err := provision.Retry(r.Context(), pg.o.Store, id, authz.From(r.Context()).Actor(), pg.o.Now())
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	seeOther(w, r, "/apps", fmt.Sprintf("Operation #%d (%s for %s) is pending again, due now.", op.ID, op.App, op.EmployeeID))
}

// releaseApp ends an app's quarantine now (provision.Release, as POST
// /api/v1/apps/{name}/release) and answers with /apps.
func (pg *Pages) releaseApp(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	configured := slices.ContainsFunc(pg.o.Config.Apps, func(a config.App) bool { return a.Name == name })
	if _, err := provision.Release(r.Context(), pg.o.Store, name, configured, authz.From(r.Context()).Actor(), pg.o.Now()); err != nil {
		pg.fail(w, r, err)
		return
	}
	seeOther(w, r, "/apps", fmt.Sprintf("App %s is released: its operations run at the next poll.", name))
}

type findingRow struct {
	store.Finding
	Age time.Duration
}

// findings lists open findings (?status=resolved for the others) with
// their owner team and age.
func (pg *Pages) findings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status := q.Get("status")
	if status == "" {
		status = "open"
	}
	if status != "open" && status != "resolved" {
		pg.fail(w, r, invalid("status %q: want open or resolved", status))
		return
	}
	n, err := pageParam(r)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	fs, err := pg.o.Store.Findings(r.Context(), q.Get("kind"), q.Get("app"), status)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	now := pg.o.Now()
	rows := make([]findingRow, len(fs))
	for i, f := range fs {
		rows[i] = findingRow{Finding: f, Age: now.Sub(f.FirstSeen).Truncate(time.Hour)}
	}
	page, pgr := cut(r, rows, n)
	pg.render(w, r, http.StatusOK, "findings", "Findings", struct {
		Status, Kind, App string
		Findings          []findingRow
		Pager             pager
	}{status, q.Get("kind"), q.Get("app"), page, pgr})
}

// audit is the audit trail filtered by actor, action and subject, newest
// first, paged, with the whole chain verified on the page.
func (pg *Pages) audit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	n, err := pageParam(r)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Subject: q.Get("subject"), Newest: true, Limit: n*PageSize + 1}
	es, err := pg.o.Store.AuditQuery(ctx, f)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	page, pgr := cut(r, es, n)
	chain, err := pg.verify(r)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	pg.render(w, r, http.StatusOK, "audit", "Audit trail", struct {
		Actor, Action, Subject string
		Entries                []audit.Entry
		Pager                  pager
		Chain                  string
		Broken                 bool
	}{f.Actor, f.Action, f.Subject, page, pgr, chain, chain != "" && chain[0] == '!'})
}

// chainEvery is how often the audit page checks the whole hash chain
// again; between, it checks the entries added since the last check, from
// the head it verified. The server's refresh job (Refresh) checks it
// every chainEvery/2, off the request path, so a page view seldom does.
const chainEvery = 10 * time.Minute

// chainState is what the audit page verified: up to which entry, and when
// it last checked the whole chain.
type chainState struct {
	sync.Mutex
	seq    int64
	hash   string
	count  int64
	whole  time.Time
	broken string
	breaks int // how many breaks were found: a whole check that began before one does not clear it

	wholeMu sync.Mutex // one whole check at a time, without holding the state
}

// verify checks the hash chain for a view of the audit page: the whole
// chain when its last whole check is chainEvery old (or there was none),
// then the entries since the head verified (each viewer sees the result up
// to the recorded head).
func (pg *Pages) verify(r *http.Request) (string, error) {
	c := &pg.chain
	if err := pg.checkWholeChain(r.Context(), chainEvery); err != nil {
		return "", err
	}
	c.Lock()
	defer c.Unlock()
	if c.broken != "" {
		return c.broken, nil
	}
	v, count, after := audit.ResumeVerifier(c.seq, c.hash), c.count, c.seq
	for {
		es, err := pg.o.Store.AuditEntries(r.Context(), after, 1000)
		if err != nil {
			return "", err
		}
		if b := v.Next(es); b != nil {
			c.broken, c.breaks = "!"+b.Error(), c.breaks+1
			return c.broken, nil
		}
		if len(es) == 0 {
			break
		}
		count += int64(len(es))
		after = es[len(es)-1].Seq
	}
	seq, hash, err := pg.o.Store.AuditHead(r.Context())
	if err != nil {
		return "", err
	}
	if b := v.Finish(seq, hash); b != nil {
		c.broken, c.breaks = "!"+b.Error(), c.breaks+1
		return c.broken, nil
	}
	c.seq, c.hash = v.Head()
	c.count = count
	loc := pg.o.Config.Location()
	return "verified: " + itoa(count) + " entries, each chained to the one before, up to the recorded head (the whole chain at " +
		c.whole.In(loc).Format("15:04:05") + ", the entries since then now)", nil
}

// checkWholeChain verifies the whole chain (audit.VerifyTrail) when its
// last whole check is at least age old, without holding the
// state: views meanwhile check only what is new. A break found is kept
// until a later whole check finds the chain intact again.
func (pg *Pages) checkWholeChain(ctx context.Context, age time.Duration) error {
	c := &pg.chain
	due := func(now time.Time) bool {
		c.Lock()
		defer c.Unlock()
		return c.whole.IsZero() || now.Sub(c.whole) >= age || now.Before(c.whole)
	}
	if !due(pg.o.Now()) {
		return nil
	}
	c.wholeMu.Lock()
	defer c.wholeMu.Unlock()
	now := pg.o.Now()
	if !due(now) { // done by another caller meanwhile
		return nil
	}
	c.Lock()
	breaks := c.breaks
	c.Unlock()
	// The trail's own check: it reads the head first, so entries
	// appended while it runs are not taken for a break.
	rep, brk, err := audit.VerifyTrail(ctx, pg.o.Store, nil)
	if err != nil {
		return err
	}
	broken := ""
	if brk != nil {
		broken = "!" + brk.Error()
	}
	c.Lock()
	defer c.Unlock()
	c.whole = now
	if broken != "" {
		c.broken, c.breaks = broken, c.breaks+1
		return nil
	}
	if c.breaks == breaks { // no break found by a view since this check began
		c.broken = ""
	}
	if rep.HeadSeq >= c.seq {
		c.seq, c.hash, c.count = rep.HeadSeq, rep.HeadHash, rep.Checked
	}
	return nil
}

// Refresh does, off the request path, what the slow pages would otherwise
// do at a view: the whole hash chain check of /audit (every chainEvery/2)
// and the figures of /teams (every teamsEvery/2). The server runs it as a
// background job; pages still do it themselves when it is overdue.
func (pg *Pages) Refresh(ctx context.Context) error {
	if err := pg.checkWholeChain(ctx, chainEvery/2); err != nil {
		return fmt.Errorf("audit chain: %w", err)
	}
	if _, err := pg.teamsFigures(ctx, teamsEvery/2); err != nil {
		return fmt.Errorf("teams figures: %w", err)
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

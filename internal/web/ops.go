package web

import (
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

// audit is the audit trail filtered by actor, action and subject, paged,
// with the whole chain verified on the page.
func (pg *Pages) audit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	n, err := pageParam(r)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Subject: q.Get("subject"), Limit: n*PageSize + 1}
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
// the head it verified.
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
}

// verify checks the hash chain, a thousand entries at a time: the whole
// chain every chainEvery, else the entries since the last check (one
// check at a time; each viewer sees the result up to the recorded head).
func (pg *Pages) verify(r *http.Request) (string, error) {
	c := &pg.chain
	c.Lock()
	defer c.Unlock()
	now := pg.o.Now()
	whole := c.whole.IsZero() || now.Sub(c.whole) >= chainEvery || now.Before(c.whole)
	if !whole && c.broken != "" {
		return c.broken, nil
	}
	v, count, after := audit.NewVerifier(), int64(0), int64(0)
	if !whole {
		v, count, after = audit.ResumeVerifier(c.seq, c.hash), c.count, c.seq
	}
	for {
		es, err := pg.o.Store.AuditEntries(r.Context(), after, 1000)
		if err != nil {
			return "", err
		}
		if b := v.Next(es); b != nil {
			c.broken, c.whole = "!"+b.Error(), now
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
		c.broken, c.whole = "!"+b.Error(), now
		return c.broken, nil
	}
	c.seq, c.hash = v.Head()
	c.count, c.broken = count, ""
	if whole {
		c.whole = now
	}
	loc := pg.o.Config.Location()
	return "verified: " + itoa(count) + " entries, each chained to the one before, up to the recorded head (the whole chain at " +
		c.whole.In(loc).Format("15:04:05") + ", the entries since then now)", nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

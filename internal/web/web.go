// Package web is Tango's workspace for people: server-rendered pages
// (html/template, embedded) with htmx for partial updates and every asset
// vendored and embedded. It holds no authorization of its own: every page
// names an authz.Permission in Pages, internal/api mounts each through the
// same middleware as the /api/v1 routes, and handlers apply the same record
// rules (authz.Principal.SeePerson, ActOnTask through Host) and call the
// same domain services (hr.Service, request.Service, workflow) as the API.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/review"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/workflow"
	"sync"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Static is the embedded assets, served under /static/.
func Static() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	return sub
}

// CSP is the Content-Security-Policy of every page: nothing but the
// server's own scripts and styles, no inline script, no framing, forms
// posting only here.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// Store is what the pages read; the SQL store satisfies it.
type Store interface {
	workflow.Store
	request.Store
	hr.Store
	store.Reviews
	AuditQuery(ctx context.Context, f store.AuditFilter) ([]audit.Entry, error)
	AuditEntries(ctx context.Context, after int64, limit int) ([]audit.Entry, error)
	AuditHead(ctx context.Context) (int64, string, error)
	Cases(ctx context.Context, f store.CaseFilter) ([]store.Case, error)
	Events(ctx context.Context, f store.EventFilter) ([]store.Event, error)
	Findings(ctx context.Context, kind, app, status string) ([]store.Finding, error)
	FindingsAbout(ctx context.Context, subject, status string) ([]store.Finding, error)
	ImportsBy(ctx context.Context, f store.ImportFilter) ([]store.Import, error)
	Persons(ctx context.Context, f store.PersonFilter) ([]store.Person, error)
	AppStates(ctx context.Context) ([]store.AppState, error)
	OpCounts(ctx context.Context) (map[string]map[string]int, error)
	// FindingCounts counts findings of a status by app.
	FindingCounts(ctx context.Context, status string) (map[string]int, error)
	// TaskLoad counts open tasks by team at now.
	TaskLoad(ctx context.Context, now time.Time) ([]store.TeamTasks, error)
	// LifecycleClocks returns the clocks of leavers, joiners and rehires
	// started at or after since; ApprovalClocks the requests approved since.
	LifecycleClocks(ctx context.Context, since time.Time) ([]store.Clock, error)
	ApprovalClocks(ctx context.Context, since time.Time) ([]store.ApprovalClock, error)
}

// Host is what the pages ask of the server that mounts them (internal/api):
// its refusals and failures (answered as HTML for a browser) and the task
// rule it applies to the API's task routes.
type Host interface {
	// Deny answers 403 with the reason and audits the refusal.
	Deny(w http.ResponseWriter, r *http.Request, reason error)
	// Fail answers an error by its kind (404, 409, 422, 500 …).
	Fail(w http.ResponseWriter, r *http.Request, err error)
	// MayActOnTask applies authz ActOnTask (with the manager's stand-ins)
	// to task id; on refusal it has answered (403 audited, or 404).
	MayActOnTask(w http.ResponseWriter, r *http.Request, id int64) bool
	// Imported is told after an import was applied (the provisioning
	// engine wakes).
	Imported()
	// RequestsDecided is told after an access request was approved (the
	// engine plans it).
	RequestsDecided(ctx context.Context)
	// RevocationsDecided is told after an access review revoked access
	// (the engine plans the removals).
	RevocationsDecided(ctx context.Context)
}

// Options configure the pages.
type Options struct {
	Store    Store
	Config   *config.Config
	Now      func() time.Time
	Log      *slog.Logger
	Version  string
	Imports  *hr.Service
	Requests *request.Service // nil: access requests unavailable
	Reviews  *review.Service  // nil: access reviews unavailable
	Host     Host
	// MaxImportBytes bounds an uploaded HR snapshot.
	MaxImportBytes int64
}

// Pages renders the workspace.
type Pages struct {
	o    Options
	tmpl map[string]*template.Template

	// teamsCache keeps the figures of /teams for teamsEvery.
	teamsCache struct {
		sync.Mutex
		d         teamsData
		at        time.Time
		computing sync.Mutex // one computation at a time
	}
	// chain is what the audit page verified of the hash chain.
	chain chainState
}

// Page is one page or form target: the permission the middleware checks
// before its handler runs (which then applies the record rules).
type Page struct {
	Method  string
	Path    string
	Perm    authz.Permission
	handler func(*Pages, http.ResponseWriter, *http.Request)
}

// Table lists every page. A page of authz.SignedIn applies a record rule
// in its handler (the caller's own data, their reports', their tasks).
var Table = []Page{
	{"GET", "/{$}", authz.SignedIn, (*Pages).inbox},
	{"GET", "/me", authz.SignedIn, (*Pages).me},
	{"GET", "/people", authz.SignedIn, (*Pages).people},
	{"GET", "/people/{id}", authz.SignedIn, (*Pages).person},
	{"GET", "/cases", authz.SignedIn, (*Pages).cases},
	{"GET", "/cases/{id}", authz.SignedIn, (*Pages).caseBoard},
	{"POST", "/tasks/{id}/complete", authz.SignedIn, (*Pages).completeTask},
	{"GET", "/requests", authz.RequestsAct, (*Pages).requests},
	{"GET", "/requests/new", authz.RequestsAct, (*Pages).newRequest},
	{"POST", "/requests", authz.RequestsAct, (*Pages).createRequest},
	{"POST", "/requests/{id}/approve", authz.RequestsAct, (*Pages).approveRequest},
	{"POST", "/requests/{id}/reject", authz.RequestsAct, (*Pages).rejectRequest},
	{"GET", "/imports", authz.ImportsRead, (*Pages).imports},
	{"POST", "/imports/preview", authz.ImportsWrite, (*Pages).previewImport},
	{"POST", "/imports/apply", authz.ImportsWrite, (*Pages).applyImport},
	{"GET", "/imports/{id}", authz.ImportsRead, (*Pages).importDetail},
	{"POST", "/imports/{id}/approve", authz.ImportsDecide, (*Pages).approveImport},
	{"POST", "/imports/{id}/reject", authz.ImportsDecide, (*Pages).rejectImport},
	{"GET", "/apps", authz.AppsRead, (*Pages).apps},
	{"POST", "/operations/{id}/retry", authz.OpsWrite, (*Pages).retryOperation},
	{"POST", "/apps/{name}/release", authz.OpsWrite, (*Pages).releaseApp},
	{"GET", "/findings", authz.FindingsRead, (*Pages).findings},
	{"GET", "/audit", authz.AuditRead, (*Pages).audit},
	{"GET", "/teams", authz.MetricsRead, (*Pages).teams},
}

// navItem is a link of the navigation bar, shown to who holds its
// permission (or passes its own test).
type navItem struct {
	Href, Label string
	show        func(authz.Principal) bool
}

func can(perm authz.Permission) func(authz.Principal) bool {
	return func(p authz.Principal) bool { return p.Can(perm) }
}

var nav = []navItem{
	{"/", "Inbox", can(authz.SignedIn)},
	{"/me", "Me", func(p authz.Principal) bool { return p.IsPerson() }},
	{"/people", "People", func(p authz.Principal) bool { return p.Can(authz.PersonsRead) || p.Has(authz.Manager) }},
	{"/cases", "Cases", func(p authz.Principal) bool { return p.Can(authz.CasesRead) || p.Has(authz.Manager) }},
	{"/requests", "Requests", can(authz.RequestsAct)},
	{"/imports", "Imports", can(authz.ImportsRead)},
	{"/apps", "Apps", can(authz.AppsRead)},
	{"/findings", "Findings", can(authz.FindingsRead)},
	{"/audit", "Audit", can(authz.AuditRead)},
	{"/teams", "Teams", can(authz.MetricsRead)},
}

// New parses the templates; it panics on a template error (a programming
// error, caught by every test).
func New(o Options) *Pages {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Config == nil {
		o.Config = config.Default()
	}
	if o.MaxImportBytes <= 0 {
		o.MaxImportBytes = 64 << 20
	}
	p := &Pages{o: o, tmpl: map[string]*template.Template{}}
	loc := o.Config.Location()
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(loc).Format("2006-01-02 15:04 MST")
		},
		"day": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(loc).Format("2006-01-02")
		},
		"join": strings.Join,
		"add":  func(a, b int) int { return a + b },
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, name := range pages {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		p.tmpl[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", name))
	}
	return p
}

// Handler runs one page of Table.
func (p *Pages) Handler(pg Page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { pg.handler(p, w, r) })
}

// view is what every page's template gets.
type view struct {
	Title   string
	Org     string
	Version string
	Me      authz.Principal
	Who     string // who is signed in, short: the header's line
	Roles   string // their roles, in full
	Nav     []navItem
	Path    string
	Zone    string // the org's time zone, every date is shown in
	Flash   string
	Data    any
}

// who is the header's short line for the caller (their ID and the roles
// beyond employee, which everyone holds) and the full list of roles.
func who(me authz.Principal) (short, full string) {
	var all, extra []string
	for _, r := range me.Roles {
		all = append(all, string(r))
		if r != authz.Employee {
			extra = append(extra, string(r))
		}
	}
	slices.Sort(all)
	slices.Sort(extra)
	short = me.Person
	if short == "" {
		short = me.Via
	}
	if len(extra) > 0 {
		short += " · " + strings.Join(extra, ", ")
	}
	return short, "signed in as " + me.Describe()
}

// render writes a page in the layout.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	me := authz.From(r.Context())
	v := view{Title: title, Org: p.o.Config.Org.Name, Version: p.o.Version, Me: me, Path: r.URL.Path, Data: data,
		Zone:  p.o.Config.Location().String(),
		Flash: r.URL.Query().Get("done")}
	v.Who, v.Roles = who(me)
	for _, n := range nav {
		if n.show(me) {
			v.Nav = append(v.Nav, n)
		}
	}
	t := p.tmpl[name]
	if t == nil {
		p.o.Host.Fail(w, r, fmt.Errorf("web: no template %q", name))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		p.o.Host.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderPart writes one template of a page alone, for htmx to swap in.
func (p *Pages) renderPart(w http.ResponseWriter, r *http.Request, name, part string, data any) {
	var buf bytes.Buffer
	if err := p.tmpl[name].ExecuteTemplate(&buf, part, data); err != nil {
		p.o.Host.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// ErrorPage writes a plain page for a refusal or a failure; the server
// answers a browser with it instead of JSON.
func ErrorPage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = errorTmpl.Execute(w, struct {
		Status int
		Text   string
		Msg    string
	}{status, http.StatusText(status), msg})
}

var errorTmpl = template.Must(template.ParseFS(templateFS, "templates/layout.html")).Lookup("error")

// PageSize is the number of rows of a paged list.
const PageSize = 50

// maxPage bounds ?page= (lists read up to page*PageSize rows).
const maxPage = 200

// pager is a list's place, kept in the URL (?page=, with the filters).
type pager struct {
	Page       int
	Prev, Next string // links; empty at an end
}

// pageParam reads ?page= (1 by default).
func pageParam(r *http.Request) (int, error) { return pageParamNamed(r, "page") }

// pageParamNamed reads the page number of one of a page's lists (the
// inbox pages its tasks with ?page= and its approvals with ?apage=).
func pageParamNamed(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPage {
		return 0, invalid("%s %q: want a whole number from 1 to %d", name, v, maxPage)
	}
	return n, nil
}

// cut keeps page n of rows (read with limit n*PageSize+1) and the links.
func cut[T any](r *http.Request, rows []T, n int) ([]T, pager) {
	start := min((n-1)*PageSize, len(rows))
	return window(r, rows[start:], n)
}

// window keeps page n of rows read from the page's first row (offset
// (n-1)*PageSize, limit PageSize+1) and the links.
func window[T any](r *http.Request, rows []T, n int) ([]T, pager) {
	return windowNamed(r, rows, n, "page", "")
}

// cutNamed is cut for a list paged by the parameter name, its links
// ending in #anchor (the list's heading) when anchor is set.
func cutNamed[T any](r *http.Request, rows []T, n int, name, anchor string) ([]T, pager) {
	start := min((n-1)*PageSize, len(rows))
	return windowNamed(r, rows[start:], n, name, anchor)
}

func windowNamed[T any](r *http.Request, rows []T, n int, name, anchor string) ([]T, pager) {
	pg := pager{Page: n}
	link := func(k int) string {
		q := r.URL.Query()
		q.Set(name, strconv.Itoa(k))
		l := r.URL.Path + "?" + q.Encode()
		if anchor != "" {
			l += "#" + anchor
		}
		return l
	}
	if len(rows) > PageSize {
		pg.Next = link(n + 1)
		rows = rows[:PageSize]
	}
	if n > 1 {
		pg.Prev = link(n - 1)
	}
	return rows, pg
}

type invalidErr string

func (e invalidErr) Error() string { return string(e) }

func invalid(format string, a ...any) error { return badInput{invalidErr(fmt.Sprintf(format, a...))} }

// badInput is a wrong parameter: 400.
type badInput struct{ error }

// fail answers err; a bad parameter is a 400 page naming it.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	var bi badInput
	if errors.As(err, &bi) {
		ErrorPage(w, http.StatusBadRequest, bi.Error())
		return
	}
	p.o.Host.Fail(w, r, err)
}

// seeOther redirects after a form (POST, then GET), with a note shown once.
func seeOther(w http.ResponseWriter, r *http.Request, to, note string) {
	if note != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "done=" + url.QueryEscape(note)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func idParam(r *http.Request, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("%s id %q: want a number", what, r.PathValue("id"))
	}
	return id, nil
}

// caller is the person the page acts for (request.Caller); a service has none.
func (p *Pages) caller(w http.ResponseWriter, r *http.Request) (request.Caller, bool) {
	me := authz.From(r.Context())
	if !me.IsPerson() {
		p.o.Host.Deny(w, r, authz.Forbidden("%s acts for no person; this page is a person's", me.Describe()))
		return request.Caller{}, false
	}
	pe, err := request.FindPerson(r.Context(), p.o.Store, p.o.Config, me.Person)
	if err != nil {
		p.fail(w, r, err)
		return request.Caller{}, false
	}
	return request.Caller{Person: pe, Via: me.Via}, true
}

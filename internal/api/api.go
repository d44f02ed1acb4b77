// Package api is Tango's HTTP face for `tango serve`: health and readiness
// probes, Prometheus metrics, the REST/JSON API under /api/v1 with its
// OpenAPI document, and the web workspace (internal/web) mounted through
// the same authorization middleware. It also runs the
// background scheduler that applies effective-dated lifecycle events.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/scim"
	"github.com/tango-iga/tango/internal/web"
)

// Body size limits.
const (
	MaxImportBytes = 64 << 20 // an HR snapshot uploaded to POST /api/v1/imports
	MaxBodyBytes   = 1 << 20  // every other request body
)

// Options configure a Server.
type Options struct {
	Store  Store
	Config *config.Config
	// Logger receives request logs; required.
	Logger *slog.Logger
	// Now is the clock; required.
	Now func() time.Time
	// Version is shown on the home page; empty: "dev".
	Version string
	// MaxImportBytes bounds an uploaded snapshot; 0: MaxImportBytes.
	MaxImportBytes int64
	// Engine, when set, plans the provisioning of every import in the
	// import's own transaction and is woken after it.
	Engine *provision.Engine
	// Imports brings HR data in (POST /api/v1/imports, SCIM pushes); nil:
	// one made of Store, Config, Engine and Now.
	Imports *hr.Service
	// Sessions identifies signed-in browsers; nil: bearer tokens only.
	Sessions Sessions
	// BaseURL is the absolute URL clients reach Tango at (server.base_url,
	// else the listen address): absolute URLs written (SCIM meta.location)
	// start with it, never with a request's Host. Empty: http://localhost.
	BaseURL string
	// SignIn serves the sign-in pages (/login, /logout, /auth/oidc/…);
	// nil: none.
	SignIn http.Handler
	// MetricsElsewhere: /metrics is served on a listen address of its own
	// (MetricsHandler, for a scraper without a token), not here; else it
	// is served here to callers with metrics.read.
	MetricsElsewhere bool
}

// Server is the http.Handler behind `tango serve`.
type Server struct {
	st        Store
	cfg       *config.Config
	log       *slog.Logger
	now       func() time.Time
	version   string
	maxImport int64
	engine    *provision.Engine
	imports   *hr.Service
	req       *request.Service // nil when the policy does not compile
	scim      *scim.Handler
	sessions  Sessions
	// reads buffers the audit entries of reads (person.read, scim.read).
	reads    *audit.Batch
	resolver *authz.Resolver
	pages    *web.Pages // nil until mounted

	reg        *prometheus.Registry
	importHist prometheus.Histogram

	handler http.Handler
}

// Route is one endpoint the API serves. Routes is the single list the
// mux is built from; the OpenAPI document must describe each of them.
type Route struct {
	Method  string
	Path    string           // a net/http pattern path; {name} wildcards read as in OpenAPI
	Perm    authz.Permission // what the caller needs, enforced by authorize alone
	handler func(*Server, http.ResponseWriter, *http.Request)
}

// Routes lists every /api/v1 endpoint. A route of authz.SignedIn lets any
// caller in and applies a record rule (their own data, their reports',
// their team's tasks, their approvals) in its handler.
var Routes = []Route{
	{"GET", "/api/v1/openapi.json", authz.Public, (*Server).openAPI},
	{"GET", "/api/v1/persons", authz.SignedIn, (*Server).listPersons},
	{"GET", "/api/v1/persons/{id}", authz.SignedIn, (*Server).getPerson},
	{"GET", "/api/v1/imports", authz.ImportsRead, (*Server).listImports},
	{"POST", "/api/v1/imports", authz.ImportsWrite, (*Server).createImport},
	{"GET", "/api/v1/imports/{id}", authz.ImportsRead, (*Server).getImport},
	{"GET", "/api/v1/events", authz.EventsRead, (*Server).listEvents},
	{"GET", "/api/v1/audit", authz.AuditRead, (*Server).listAudit},
	{"GET", "/api/v1/apps", authz.AppsRead, (*Server).listApps},
	{"GET", "/api/v1/operations", authz.OpsRead, (*Server).listOperations},
	{"POST", "/api/v1/operations/{id}/retry", authz.OpsWrite, (*Server).retryOperation},
	{"POST", "/api/v1/apps/{name}/release", authz.OpsWrite, (*Server).releaseApp},
	{"GET", "/api/v1/findings", authz.FindingsRead, (*Server).listFindings},
	{"GET", "/api/v1/cases", authz.SignedIn, (*Server).listCases},
	{"GET", "/api/v1/tasks", authz.SignedIn, (*Server).listTasks},
	{"POST", "/api/v1/tasks/{id}/complete", authz.SignedIn, (*Server).completeTask},
	{"POST", "/api/v1/tasks/{id}/reassign", authz.SignedIn, (*Server).reassignTask},
	{"GET", "/api/v1/notifications", authz.NotesRead, (*Server).listNotifications},
	{"GET", "/api/v1/metrics/lifecycle", authz.MetricsRead, (*Server).lifecycleMetrics},
	{"GET", "/api/v1/requests", authz.SignedIn, (*Server).listRequests},
	{"POST", "/api/v1/requests", authz.RequestsAct, (*Server).createRequest},
	{"POST", "/api/v1/requests/{id}/approve", authz.RequestsAct, (*Server).approveRequest},
	{"POST", "/api/v1/requests/{id}/reject", authz.RequestsAct, (*Server).rejectRequest},
	{"PUT", "/api/v1/persons/{id}/away", authz.SignedIn, (*Server).setAway},
}

// SignInPaths are the paths Options.SignIn serves (anyone may call them:
// they are how one signs in).
var SignInPaths = []string{"/login", "/logout", "/auth/oidc/start", "/auth/oidc/callback"}

// New builds the server. It panics only on programming errors (a metric
// registered twice, a nil Logger or Now).
func New(o Options) *Server {
	if o.Logger == nil {
		panic("api.New: Options.Logger is nil")
	}
	if o.Now == nil {
		panic("api.New: Options.Now is nil")
	}
	s := &Server{st: o.Store, cfg: o.Config, log: o.Logger, now: o.Now, version: o.Version, maxImport: o.MaxImportBytes, engine: o.Engine}
	s.reads = audit.NewBatch(o.Store, o.Logger)
	if s.maxImport <= 0 {
		s.maxImport = MaxImportBytes
	}
	if s.version == "" {
		s.version = "dev"
	}
	if s.cfg == nil {
		s.cfg = config.Default()
	}
	s.imports = o.Imports
	if s.imports == nil {
		io := hr.ServiceOptions{Now: s.now}
		if s.engine != nil {
			io.Provision = s.engine.ForImport
		}
		s.imports = hr.NewService(s.st, s.cfg, io)
	}
	if svc, err := request.NewService(s.st, s.cfg, s.now); err != nil {
		s.log.Error("access requests unavailable", "err", err)
	} else {
		s.req = svc
	}
	s.sessions = o.Sessions
	res, err := authz.NewResolver(s.cfg, s.st, s.now)
	if err != nil {
		// The config check refuses such a config before serving; a
		// resolver that gives nothing beyond employee is the safe side.
		s.log.Error("authorization roles unavailable", "err", err)
		res, _ = authz.NewResolver(&config.Config{}, s.st, s.now)
	}
	s.resolver = res
	s.initMetrics()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if !o.MetricsElsewhere {
		mux.Handle("GET /metrics", s.authorize(authz.MetricsRead, s.metricsHandler()))
	}
	for _, r := range Routes {
		h := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { r.handler(s, w, req) }))
		mux.Handle(r.Method+" "+r.Path, s.authorize(r.Perm, h))
	}
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path+"; see /api/v1/openapi.json")
	})
	s.scim = scim.New(scim.Options{Store: s.st, Config: s.cfg, Logger: s.log, Now: s.now, Engine: s.engine, Imports: s.imports,
		BaseURL: o.BaseURL, ReadAudit: s.reads})
	mux.Handle("/scim/v2/", s.scim)
	s.mountPages(mux)
	if o.SignIn != nil {
		for _, p := range SignInPaths {
			mux.Handle(p, o.SignIn)
		}
	}
	// One cross-origin check for the whole server: a state-changing
	// request a browser sends from another site (a form posted to /login
	// or a page, a fetch with the session cookie) is refused; API clients
	// sending no Origin or Sec-Fetch-Site pass.
	cop := http.NewCrossOriginProtection()
	for _, origin := range []string{s.cfg.SignIn.OIDC.RedirectURL, o.BaseURL} {
		// Tango's public origin, for browsers without Sec-Fetch-Site
		// behind a proxy that changes the Host header.
		if u, err := url.Parse(origin); err == nil && u.Scheme != "" && u.Host != "" {
			if err := cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
				s.log.Warn("no origin to trust", "url", u.Scheme+"://"+u.Host, "err", err)
			}
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/scim/") {
			writeError(w, http.StatusForbidden, "cross-origin request refused: "+r.Method+" "+r.URL.Path+" must come from Tango's own pages")
			return
		}
		web.ErrorPage(w, http.StatusForbidden, "this form came from another site: cross-origin requests are refused")
	}))
	s.handler = s.logRequests(securityHeaders(cop.Handler(mux)))
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Close writes what the server still buffers (the audit entries of
// reads); call it after the last request has been answered.
func (s *Server) Close(ctx context.Context) error { return s.reads.Write(ctx) }

// Flush writes the audit entries of reads buffered so far (a failure is
// logged).
func (s *Server) Flush() { s.reads.Flush() }

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", web.CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// pageErrors turns the JSON error of writeError into a page for a browser.
type pageErrors struct{ http.ResponseWriter }

func (p pageErrors) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// statusWriter records the status and size of a response for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one structured line per request. It logs the path
// only: never the query string (it may carry a token) nor any header.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				if sw.status == 0 {
					writeError(sw, http.StatusInternalServerError, "internal error")
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			lvl := slog.LevelInfo
			if status >= 500 {
				lvl = slog.LevelError
			}
			s.log.LogAttrs(r.Context(), lvl, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int64("bytes", sw.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("remote", r.RemoteAddr))
		}()
		next.ServeHTTP(sw, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.st.Ping(ctx); err != nil {
		s.log.Warn("not ready: database unreachable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// fail answers with the HTTP status and message for an error: the status
// of its kind (domain.HTTPStatus: 404 not found, 409 conflict, 422
// invalid, 403 forbidden, 401 unauthorized) with its message, else 500
// saying nothing that is unsafe to show (details go to the log).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if isPage(r) {
		w = pageErrors{w}
	}
	switch status := domain.HTTPStatus(err); {
	case status != http.StatusInternalServerError:
		writeError(w, status, err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "request cancelled or timed out")
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error; see the server log")
	}
}

// Package scim is Tango's SCIM 2.0 service provider (RFC 7643, RFC 7644)
// under /scim/v2: HR systems, Microsoft Entra ID and Okta push workforce
// identities to it. Users feed the persons of the configured source of
// kind scim through the same lifecycle pipeline as file imports
// (hr.ApplyPush); Groups are kept as SCIM resources.
package scim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/store"
)

// Limits.
const (
	MaxBodyBytes     = 1 << 20 // every request but Bulk
	MaxBulkBytes     = 4 << 20 // a Bulk request (maxPayloadSize)
	MaxBulkOps       = 1000    // operations of a Bulk request (maxOperations)
	DefaultCount     = 100
	MaxCount         = 1000
	MaxFilterResults = 200000 // resources evaluated in Go for one filter
	ContentType      = "application/scim+json"
	Prefix           = "/scim/v2"
)

// Options configure the handler.
type Options struct {
	Store  Store
	Config *config.Config
	Logger *slog.Logger     // required
	Now    func() time.Time // the clock; required
	// Engine, when set, plans provisioning for every pushed change.
	Engine *provision.Engine
	// Imports applies the pushed changes; nil: one made of Store, Config,
	// Engine and Now.
	Imports *hr.Service
	// BaseURL is the absolute URL Tango is reached at (server.base_url,
	// else the listen address): meta.location and every other absolute
	// URL written start with it followed by /scim/v2, whatever Host or
	// X-Forwarded-* header a client sends. Empty: http://localhost.
	BaseURL string
	// ReadAudit, when set, buffers the audit entries of reads (shared
	// with /api/v1); nil: a buffer of the handler's own.
	ReadAudit *audit.Batch
}

// Handler serves /scim/v2/.
type Handler struct {
	st      Store
	cfg     *config.Config
	log     *slog.Logger
	now     func() time.Time
	engine  *provision.Engine
	imports *hr.Service
	// baseURL is the absolute URL of /scim/v2 for meta.location and every
	// other absolute URL written: configured, never taken from the
	// request (a client's Host or X-Forwarded-Proto would otherwise choose
	// the URLs other clients are given).
	baseURL string

	audit *audit.Batch

	mapOnce sync.Once
	mapper  *userMapper
	mapErr  error
}

// New builds the handler. Options.Logger and Options.Now are required:
// New panics without them (a programming error).
func New(o Options) *Handler {
	if o.Logger == nil {
		panic("scim.New: Options.Logger is nil")
	}
	if o.Now == nil {
		panic("scim.New: Options.Now is nil")
	}
	h := &Handler{st: o.Store, cfg: o.Config, log: o.Logger, now: o.Now, engine: o.Engine}
	if h.cfg == nil {
		h.cfg = config.Default()
	}
	h.baseURL = strings.TrimRight(o.BaseURL, "/")
	if h.baseURL == "" {
		h.baseURL = "http://localhost"
	}
	h.baseURL += Prefix
	h.imports = o.Imports
	if h.imports == nil {
		io := hr.ServiceOptions{Now: h.now}
		if h.engine != nil {
			io.Provision = h.engine.ForImport
		}
		h.imports = hr.NewService(h.st, h.cfg, io)
	}
	h.audit = o.ReadAudit
	if h.audit == nil {
		h.audit = audit.NewBatch(o.Store, h.log)
	}
	if src, e := h.source(); e == nil {
		if _, err := h.userMapper(src); err != nil {
			h.log.Error("scim: pushed users cannot be mapped until the config is fixed", "err", err)
		}
	}
	return h
}

// Flush writes the audit entries of reads still buffered (a failure is
// logged).
func (h *Handler) Flush() { h.audit.Flush() }

// Close writes the audit entries of reads still buffered and returns the
// failure; serve calls it once the last request has been answered, so no
// read's entry is lost at shutdown.
func (h *Handler) Close(ctx context.Context) error { return h.audit.Write(ctx) }

type ctxKey int

const tokenKey ctxKey = 0

func tokenOf(ctx context.Context) store.Token {
	t, _ := ctx.Value(tokenKey).(store.Token)
	return t
}

func (h *Handler) actor(ctx context.Context) string { return "scim:" + tokenOf(ctx).Name }

func (h *Handler) checkToken(r *http.Request) (store.Token, error) {
	hdr := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(hdr, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return store.Token{}, auth.ErrUnauthorized
	}
	// No cache: a revoked token is refused from the next request on. The
	// lookup is one indexed read by the token's hash.
	return auth.Check(r.Context(), h.st, strings.TrimSpace(tok), "scim", h.now())
}

// ServeHTTP authenticates, bounds the body and dispatches.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t, err := h.checkToken(r)
	if err != nil {
		if errors.Is(err, auth.ErrUnauthorized) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tango-scim"`)
			writeErr(w, &Error{Status: http.StatusUnauthorized, Detail: "a bearer token with scope scim is required (create one with `tango token create --scope scim --name NAME`)"})
			return
		}
		h.internal(w, r, err)
		return
	}
	limit := int64(MaxBodyBytes)
	if strings.EqualFold(strings.TrimPrefix(r.URL.Path, Prefix), "/Bulk") {
		limit = MaxBulkBytes
		if r.ContentLength > MaxBulkBytes {
			writeErr(w, &Error{Status: http.StatusRequestEntityTooLarge, Detail: "the bulk request is larger than maxPayloadSize"})
			return
		}
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}
	reads := &readLog{}
	ctx := context.WithValue(context.WithValue(r.Context(), tokenKey, t), readKey, reads)
	r = r.WithContext(ctx)
	sw := &statusWriter{ResponseWriter: w}
	h.dispatch(sw, r)
	if r.Method == http.MethodGet || reads.any {
		// Every read (a GET, a POST .search, the GETs of a Bulk request)
		// is one entry naming the reader and the persons read. Writes
		// carry their entry in their own transaction.
		h.audit.Add(reads.entry(h.now(), h.actor(ctx), r, sw.status))
	}
}

// MaxReadSubjects bounds the persons one read's audit entry lists; the
// entry counts the rest.
const MaxReadSubjects = 1000

const readKey ctxKey = 1

// readLog gathers the persons (employee IDs) a request read, across the
// operations of a Bulk request.
type readLog struct {
	mu       sync.Mutex
	any      bool
	subjects []string
	seen     map[string]bool
	total    int
}

// noteRead records that xs were read (Users: their persons).
func noteRead(ctx context.Context, rt *resourceType, xs ...*store.SCIMResource) {
	l, _ := ctx.Value(readKey).(*readLog)
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.any = true
	if rt != userType {
		return
	}
	for _, x := range xs {
		id := x.EmployeeID
		if id == "" || l.seen[id] {
			continue
		}
		if l.seen == nil {
			l.seen = map[string]bool{}
		}
		l.total++
		if len(l.subjects) < MaxReadSubjects {
			l.seen[id] = true
			l.subjects = append(l.subjects, id)
		}
	}
}

func (l *readLog) entry(at time.Time, actor string, r *http.Request, status int) audit.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	doc := map[string]any{"status": status, "method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery}
	subject := ""
	if len(l.subjects) > 0 {
		doc["subjects"] = l.subjects
		if len(l.subjects) == 1 {
			subject = l.subjects[0]
		}
	}
	if l.total > len(l.subjects) {
		doc["subjects_total"] = l.total
	}
	return audit.New(at.UTC().Truncate(time.Microsecond), actor, "scim.read", "", "", subject, nil, doc)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(c int) {
	if w.status == 0 {
		w.status = c
	}
	w.ResponseWriter.WriteHeader(c)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	return w.ResponseWriter.Write(b)
}

// dispatch routes an authenticated request (also used by Bulk).
func (h *Handler) dispatch(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, Prefix)
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) > 2 || parts[0] == "" {
		writeErr(w, errNotFound("no such endpoint: %s", r.URL.Path))
		return
	}
	id := ""
	if len(parts) == 2 {
		id = parts[1]
	}
	switch strings.ToLower(parts[0]) {
	case "users":
		h.resource(w, r, userType, id)
	case "groups":
		h.resource(w, r, groupType, id)
	case "bulk":
		if id != "" || r.Method != http.MethodPost {
			writeErr(w, &Error{Status: http.StatusMethodNotAllowed, Detail: "Bulk takes POST"})
			return
		}
		h.bulk(w, r)
	case "serviceproviderconfig", "serviceconfiguration":
		// /serviceConfiguration: the draft name some clients still ask for.
		h.get(w, r, id == "", func() any { return spConfig(h.baseURL) })
	case "schemas":
		h.get(w, r, true, func() any { return schemasDoc(h.baseURL, id) })
	case "resourcetypes":
		h.get(w, r, true, func() any { return resourceTypesDoc(h.baseURL, id) })
	default:
		writeErr(w, errNotFound("no such endpoint: %s", r.URL.Path))
	}
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request, ok bool, doc func() any) {
	if r.Method != http.MethodGet {
		writeErr(w, &Error{Status: http.StatusMethodNotAllowed, Detail: "only GET"})
		return
	}
	if !ok {
		writeErr(w, errNotFound("no such endpoint: %s", r.URL.Path))
		return
	}
	v := doc()
	if e, isErr := v.(*Error); isErr {
		writeErr(w, e)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = 500, []byte(`{"schemas":["`+URNError+`"],"status":"500","detail":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeErr(w http.ResponseWriter, e *Error) { writeJSON(w, e.Status, e) }

func (h *Handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	switch status := domain.HTTPStatus(err); {
	case status != http.StatusInternalServerError:
		writeErr(w, &Error{Status: status, Detail: err.Error()})
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeErr(w, &Error{Status: http.StatusServiceUnavailable, Detail: "request cancelled or timed out"})
	default:
		h.log.Error("scim request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeErr(w, &Error{Status: http.StatusInternalServerError, Detail: "internal error; see the server log"})
	}
}

// readBody reads a bounded JSON body into a map.
func readBody(r *http.Request) (map[string]any, []byte, *Error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, nil, &Error{Status: http.StatusRequestEntityTooLarge, Detail: "the request body is too large"}
		}
		return nil, nil, errSyntax("reading the body failed")
	}
	if e := checkBody(b); e != nil {
		return nil, b, e
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, b, errSyntax("the body is not a JSON object")
	}
	return m, b, nil
}

package api

import (
	"context"
	"io/fs"
	"net/http"
	"strings"

	"github.com/tango-iga/tango/internal/review"
	"github.com/tango-iga/tango/internal/web"
)

// isPage tells a request for the web workspace (not /api/ or /scim/): its
// refusals and failures are pages, and a caller without a session is sent
// to sign in.
func isPage(r *http.Request) bool {
	return !strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/scim/") && r.URL.Path != "/metrics"
}

// wantsHTML: a browser asking for a page.
func wantsHTML(r *http.Request) bool {
	return isPage(r) && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// pageHost is what the web pages ask of the server: its refusals (audited),
// failures, the task rule and the provisioning engine.
type pageHost struct{ s *Server }

func (h pageHost) Deny(w http.ResponseWriter, r *http.Request, reason error) {
	h.s.deny(w, r, principalOf(r), reason)
}
func (h pageHost) Fail(w http.ResponseWriter, r *http.Request, err error) { h.s.fail(w, r, err) }
func (h pageHost) MayActOnTask(w http.ResponseWriter, r *http.Request, id int64) bool {
	return h.s.mayActOnTask(w, r, id)
}
func (h pageHost) Imported() {
	if h.s.engine != nil {
		h.s.engine.Wake()
	}
}
func (h pageHost) RequestsDecided(ctx context.Context) { h.s.planRequests(ctx) }
func (h pageHost) RevocationsDecided(ctx context.Context) {
	if h.s.engine != nil {
		if _, err := h.s.engine.PlanRevocations(ctx); err != nil {
			// Decided and recorded; the next provisioning pass plans it.
			h.s.log.Error("planning review revocations", "err", err)
		}
	}
}

// mountPages mounts every page of web.Table through authorize, with the
// page's permission (the cross-origin check New wraps the whole mux in
// refuses forms a browser says come from another site), and the embedded
// assets under /static/.
func (s *Server) mountPages(mux *http.ServeMux) {
	reviews, err := review.New(s.st, s.cfg, review.Options{Now: s.now})
	if err != nil {
		s.log.Error("access reviews unavailable in the workspace", "err", err)
		reviews = nil
	}
	pages := web.New(web.Options{Store: s.st, Config: s.cfg, Now: s.now, Log: s.log, Version: s.version,
		Imports: s.imports, Requests: s.req, Reviews: reviews, Host: pageHost{s}, MaxImportBytes: s.maxImport})
	s.pages = pages
	for _, pg := range web.Table {
		mux.Handle(pg.Method+" "+pg.Path, s.authorize(pg.Perm, pages.Handler(pg)))
	}
	static := http.FileServerFS(web.Static())
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := fs.Stat(web.Static(), strings.TrimPrefix(r.URL.Path, "/")); err != nil || strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		static.ServeHTTP(w, r)
	})))
}

// Refresh does, off the request path, the work of the workspace's slow
// pages (the whole hash chain check of /audit, the figures of /teams); the
// server runs it as a background job.
func (s *Server) Refresh(ctx context.Context) error {
	if s.pages == nil {
		return nil
	}
	return s.pages.Refresh(ctx)
}

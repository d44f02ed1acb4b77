package api

import (
	"bytes"
	"context"
	_ "embed"
	"html/template"
	"net/http"
	"sort"
	"time"

	"github.com/tango-iga/tango/internal/duration"
	"github.com/tango-iga/tango/internal/store"
)

//go:embed web/index.html
var indexHTML string

//go:embed web/tango.css
var tangoCSS []byte

var indexTmpl = template.Must(template.New("index").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"secs": func(d duration.Duration) string { return d.Std().Round(time.Millisecond).String() },
}).Parse(indexHTML))

type count struct {
	Name  string
	Value int64
}

type homeData struct {
	Org, Version string
	Persons      []count
	Imports      []count
	Events       []count
	Recent       []store.Import
	Err          string
}

func sorted(m map[string]int64, known ...string) []count {
	out := []count{}
	seen := map[string]bool{}
	for _, k := range known {
		out = append(out, count{k, m[k]})
		seen[k] = true
	}
	var rest []string
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, count{k, m[k]})
	}
	return out
}

// home shows what Tango is, counts and the last imports: no personal data.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	d := homeData{Org: s.cfg.Org.Name, Version: s.version}
	n, err := s.st.Counts(ctx)
	if err == nil {
		d.Persons = sorted(n.PersonsByStatus, store.StatusActive, store.StatusPrehire, store.StatusLeft)
		d.Imports = sorted(n.ImportsByStatus, store.ImportApplied, store.ImportHeld, store.ImportRejected)
		d.Events = sorted(n.EventsByType, store.EventJoiner, store.EventMover, store.EventLeaver, store.EventRehire, store.EventChange)
		d.Recent, err = s.st.Imports(ctx, "", 10)
	}
	if err != nil {
		s.log.Error("home page: reading the store failed", "err", err)
		d.Err = "The database cannot be read right now; see the server log."
	}
	var buf bytes.Buffer
	if err := indexTmpl.Execute(&buf, d); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if d.Err != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) css(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(tangoCSS)
}

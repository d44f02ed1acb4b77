package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/store"
)

// Sessions tells who a browser is from its session cookie (the sign-in
// package provides it). ok is false without a live session.
type Sessions interface {
	Identify(r *http.Request) (id Identity, ok bool, err error)
}

// Identity is a signed-in person as a session knows them.
type Identity struct {
	Person string
	Groups []string
	// Via names the session for the audit trail ("session:…").
	Via string
}

// principalOf is the caller the middleware let in (authz.From).
func principalOf(r *http.Request) authz.Principal { return authz.From(r.Context()) }

// errNoCaller: neither a bearer token nor a session.
var errNoCaller = fmt.Errorf("%w: sign in, or send Authorization: Bearer <token> (create one with `tango token create --scope api --name NAME --role ROLE`)", auth.ErrUnauthorized)

// principal finds who calls: a bearer token (a service's, with its roles,
// or a person's, holding at most the person's roles), else a browser
// session. A person who has left holds nothing.
func (s *Server) principal(r *http.Request) (authz.Principal, error) {
	ctx := r.Context()
	if b := bearer(r); b != "" {
		t, err := auth.Check(ctx, s.st, b, "api", s.now())
		if err != nil {
			return authz.Principal{}, err
		}
		via := "token:" + t.Name
		if t.Person == "" {
			roles := make([]authz.Role, len(t.Roles))
			for i, x := range t.Roles {
				roles[i] = authz.Role(x)
			}
			return authz.ForService(roles, via), nil
		}
		p, err := s.personPrincipal(ctx, t.Person, nil, via)
		if err != nil || len(t.Roles) == 0 {
			return p, err
		}
		allowed := []authz.Role{authz.Employee, authz.Manager, authz.AppOwner}
		for _, x := range t.Roles {
			allowed = append(allowed, authz.Role(x))
		}
		p.Roles = authz.Intersect(p.Roles, allowed)
		p.Teams = slices.DeleteFunc(p.Teams, func(team string) bool {
			return slices.Contains([]string{"hr", "it", "security"}, team) && !slices.Contains(p.Roles, authz.Role(team))
		})
		return p, nil
	}
	if s.sessions != nil {
		id, ok, err := s.sessions.Identify(r)
		if err != nil {
			return authz.Principal{}, err
		}
		if ok {
			return s.personPrincipal(ctx, id.Person, id.Groups, id.Via)
		}
	}
	return authz.Principal{}, errNoCaller
}

func (s *Server) personPrincipal(ctx context.Context, id string, groups []string, via string) (authz.Principal, error) {
	p, err := request.FindPerson(ctx, s.st, s.cfg, id)
	if errors.Is(err, store.ErrNotFound) {
		return authz.Principal{}, fmt.Errorf("%w: %s acts for %s, who is not in the workforce", auth.ErrUnauthorized, via, id)
	}
	if err != nil {
		return authz.Principal{}, err
	}
	return s.resolver.ForPerson(ctx, p, groups, via)
}

// authorize is the one check of every route: it finds the caller and lets
// them in only with the route's permission. A refusal is an audit entry.
func (s *Server) authorize(perm authz.Permission, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if perm == authz.Public {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.principal(r)
		if isPage(r) {
			w = pageErrors{w}
		}
		if errors.Is(err, auth.ErrUnauthorized) && wantsHTML(r) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			// A browser without a session signs in first, then comes back.
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if errors.Is(err, auth.ErrUnauthorized) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tango"`)
			msg := err.Error()
			if errors.Is(err, authz.ErrLeft) || err == auth.ErrUnauthorized {
				msg = errNoCaller.Error()
				if errors.Is(err, authz.ErrLeft) {
					msg = err.Error()
				}
			}
			writeError(w, http.StatusUnauthorized, msg)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := p.Need(perm, r.Method+" "+r.URL.Path); err != nil {
			s.deny(w, r, p, err)
			return
		}
		// Reading bodies is bounded everywhere; imports and evidence files
		// set their own limit.
		if r.Body != nil && !(r.Method == http.MethodPost && (r.URL.Path == "/api/v1/imports" || strings.HasPrefix(r.URL.Path, "/imports/") ||
			(strings.HasPrefix(r.URL.Path, "/tasks/") && strings.HasSuffix(r.URL.Path, "/complete")))) {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		if pw, ok := w.(pageErrors); ok {
			w = pw.ResponseWriter
		}
		next.ServeHTTP(w, r.WithContext(authz.WithPrincipal(r.Context(), p)))
	})
}

// deny answers 403 with the reason and records the refusal in the audit
// trail ("access.denied": who, what, which rule).
func (s *Server) deny(w http.ResponseWriter, r *http.Request, p authz.Principal, reason error) {
	subject := r.PathValue("id")
	e := audit.New(s.now(), p.Actor(), "access.denied", "", "", subject, nil,
		map[string]string{"method": r.Method, "path": r.URL.Path, "reason": reason.Error()})
	if err := s.st.InTx(r.Context(), func(tx store.Tx) error { return tx.AppendAudit(e) }); err != nil {
		s.log.Error("recording a refused request in the audit trail failed", "err", err)
	}
	if _, ok := w.(pageErrors); !ok && isPage(r) {
		w = pageErrors{w}
	}
	writeError(w, http.StatusForbidden, reason.Error())
}

// check runs a record rule: on refusal it answers 403 (audited) and
// returns false.
func (s *Server) check(w http.ResponseWriter, r *http.Request, err error) bool {
	if err == nil {
		return true
	}
	s.deny(w, r, principalOf(r), err)
	return false
}

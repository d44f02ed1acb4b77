package api

import (
	"net/http"
	"strings"

	"github.com/tango-iga/tango/internal/audit"
)

// ActionPersonRead is the audit action of a read of a person's data
// through /api/v1: the actor is who read, the subject whose data.
const ActionPersonRead = "person.read"

// readPersons records that the caller read the data of the persons ids:
// one "person.read" entry each (a person reading their own data is not
// recorded), naming the route. The entries are buffered and written
// together; a failed write is logged and never fails the read.
func (s *Server) readPersons(r *http.Request, ids ...string) {
	p := principalOf(r)
	actor := p.Actor()
	at := s.now()
	route := map[string]string{"method": r.Method, "path": r.URL.Path}
	seen := make(map[string]bool, len(ids))
	var es []audit.Entry
	for _, id := range ids {
		if id == "" || seen[id] || (p.Person != "" && id == p.Person) {
			continue
		}
		seen[id] = true
		es = append(es, audit.New(at, actor, ActionPersonRead, "", "", id, nil, route))
	}
	s.reads.Add(es...)
}

// personOf is the employee ID a notification's recipient names, if any.
func personOf(recipient string) string {
	id, _ := strings.CutPrefix(recipient, "person:")
	if id == recipient {
		return ""
	}
	return id
}

package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/workflow"
)

type casesData struct {
	Status, Kind string
	Mine         bool // only cases about the caller's reports (no cases.read)
	Cases        []store.Case
	Pager        pager
}

// cases lists lifecycle cases (?status=open|closed, ?kind=), paged. Without
// cases.read a manager sees the cases of their reports.
func (pg *Pages) cases(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me := authz.From(ctx)
	q := r.URL.Query()
	n, err := pageParam(r)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	d := casesData{Status: q.Get("status"), Kind: q.Get("kind")}
	if d.Status != "" && d.Status != store.CaseOpen && d.Status != store.CaseClosed {
		pg.fail(w, r, invalid("status %q: want open or closed", d.Status))
		return
	}
	var all []store.Case
	if me.Can(authz.CasesRead) {
		all, err = pg.o.Store.Cases(ctx, store.CaseFilter{Status: d.Status, Kind: d.Kind, Limit: n*PageSize + 1})
	} else {
		if !me.Has(authz.Manager) {
			pg.o.Host.Deny(w, r, me.Need(authz.CasesRead, "listing cases (a manager may list their reports')"))
			return
		}
		d.Mine = true
		var reports []store.Person
		reports, err = pg.o.Store.Persons(ctx, store.PersonFilter{ManagerID: me.Person, Limit: 1000})
		for _, p := range reports {
			if err != nil {
				break
			}
			var cs []store.Case
			cs, err = pg.o.Store.Cases(ctx, store.CaseFilter{Person: p.EmployeeID, Status: d.Status, Kind: d.Kind, Limit: 100})
			all = append(all, cs...)
		}
		slices.SortFunc(all, func(a, b store.Case) int { return b.OpenedAt.Compare(a.OpenedAt) })
	}
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	d.Cases, d.Pager = cut(r, all, n)
	pg.render(w, r, http.StatusOK, "cases", "Cases", d)
}

type caseData struct {
	Case   store.Case
	Person store.Person
	Tasks  []boardTask
}

// boardTask is a step of a case board: its task and whether the caller
// may complete it from the page.
type boardTask struct {
	taskRow
	CanAct bool
}

// caseBoard shows one case: each step with its owner team, due date,
// dependencies, state and evidence, and a form to complete the caller's
// own open steps. Who may see the person or holds cases.read sees it, and
// so does a member of a team with a step in it.
func (pg *Pages) caseBoard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me := authz.From(ctx)
	id, err := idParam(r, "case")
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	c, err := pg.o.Store.Case(ctx, id)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	ts, err := pg.o.Store.CaseTasks(ctx, store.CaseTaskFilter{Case: id})
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	person, err := pg.o.Store.Person(ctx, c.Source, c.Person)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		pg.fail(w, r, err)
		return
	}
	if person.EmployeeID == "" {
		person.EmployeeID = c.Person
	}
	d := caseData{Case: c, Person: person}
	now := pg.o.Now()
	mayAct := false
	for _, t := range ts {
		act := t.Status == store.TaskOpen && t.Kind == store.TaskHuman && me.ActOnTask(t, nil) == nil
		mayAct = mayAct || me.ActOnTask(t, nil) == nil
		d.Tasks = append(d.Tasks, boardTask{taskRow: taskRow{CaseTask: t, Overdue: t.Status == store.TaskOpen && !t.Due.IsZero() && t.Due.Before(now)}, CanAct: act})
	}
	if !me.Can(authz.CasesRead) && !me.MaySeePerson(person) && !mayAct {
		pg.o.Host.Deny(w, r, authz.Forbidden("%s may not see case %d: only who may see %s, a team with a step in it, or a role with %s may",
			me.Describe(), id, c.Person, authz.CasesRead))
		return
	}
	pg.render(w, r, http.StatusOK, "case", fmt.Sprintf("Case %d: %s of %s", c.ID, c.Kind, c.Person), d)
}

// completeTask closes a task with its evidence from a form (a text field,
// or a file for a step that needs one: its name, SHA-256 and size are
// recorded). The rule is the API's: authz ActOnTask, through the host.
func (pg *Pages) completeTask(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "task")
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	if !pg.o.Host.MayActOnTask(w, r, id) { // before reading what may be a large file
		return
	}
	evidence, err := formEvidence(r)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	t, err := workflow.Complete(r.Context(), pg.o.Store, id, evidence, authz.From(r.Context()).Actor(), pg.o.Now())
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	if r.Header.Get("HX-Request") == "true" {
		// htmx swaps the task's row of the case board in place.
		pg.renderPart(w, r, "case", "row", boardTask{taskRow: taskRow{CaseTask: t}})
		return
	}
	back := "/"
	if t.Case != 0 {
		back = "/cases/" + strconv.FormatInt(t.Case, 10)
	}
	seeOther(w, r, back, fmt.Sprintf("Task %d (%s) is done.", t.ID, t.Title))
}

// MaxEvidenceBytes bounds an evidence file; it is hashed as it streams
// in, never kept.
const MaxEvidenceBytes = 64 << 20

// formEvidence reads the evidence of a completion form: the text field,
// or the fingerprint of an attached file (streamed, so memory stays small
// whatever its size).
func formEvidence(r *http.Request) (string, error) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			return "", invalid("reading the form: %v", err)
		}
		return strings.TrimSpace(r.PostFormValue("evidence")), nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return "", invalid("reading the form: %v", err)
	}
	var text, file string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", invalid("reading the form: %v", err)
		}
		switch part.FormName() {
		case "evidence":
			b, err := io.ReadAll(io.LimitReader(part, 64<<10))
			if err != nil {
				return "", invalid("reading the evidence: %v", err)
			}
			text = strings.TrimSpace(string(b))
		case "file":
			sum := sha256.New()
			n, err := io.Copy(sum, io.LimitReader(part, MaxEvidenceBytes+1))
			if err != nil {
				return "", invalid("reading the evidence file: %v", err)
			}
			if n > MaxEvidenceBytes {
				return "", invalid("the evidence file is larger than %d bytes", MaxEvidenceBytes)
			}
			if n > 0 {
				name := path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
				file = fmt.Sprintf("file:%s sha256:%s bytes:%d", name, hex.EncodeToString(sum.Sum(nil)), n)
			}
		}
		part.Close()
	}
	if file != "" {
		return file, nil
	}
	return text, nil
}

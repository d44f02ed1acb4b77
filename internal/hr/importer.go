// Package hr turns HR snapshots into lifecycle events: it reads a feed
// (CSV, JSON, XLSX, with internal/table), maps its columns to person
// attributes, validates the whole feed before anything is written, and
// diffs it against the stored workforce of its source.
package hr

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/duration"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/table"
)

// Result is what an import did, in the shape `tango hr import --json` prints.
type Result struct {
	ImportID  string        `json:"import_id"`
	Source    string        `json:"source"`
	Status    string        `json:"status"`
	Rows      int           `json:"rows"`
	Joiners   int           `json:"joiners"`
	Movers    int           `json:"movers"`
	Leavers   int           `json:"leavers"`
	Rehires   int           `json:"rehires"`
	Changes   int           `json:"changes"`
	Unchanged int           `json:"unchanged"`
	Scheduled int           `json:"scheduled"`
	Reason    string        `json:"reason,omitempty"`
	Errors    []RowError    `json:"errors"`
	Events    []store.Event `json:"-"`
}

// Options tune an import.
type Options struct {
	DryRun bool
	Actor  string // who runs it; "cli:<user>" or a token name
	// Format, when set, is how to read the file (csv, json or xlsx) ahead
	// of the source's format and the file's extension; FormatFrom says who
	// set it ("--format").
	Format, FormatFrom string
	Now                func() time.Time // defaults to time.Now
	// Provision, when set, plans the access changes of an applied import;
	// they are queued in the same transaction as its events.
	Provision func(ctx context.Context, persons []store.Person, events []store.Event, at time.Time) (*store.ProvisionBatch, error)

	preloaded chan preloaded // the workforce read while the file was parsed
}

// ErrHeld means an earlier import of the source awaits a decision.
var ErrHeld = domain.E(domain.KindConflict, "an import of this source is held")

// ImportFile parses, maps, validates and applies one full snapshot file.
// Invalid feeds come back as a Result with status "rejected" and every
// problem listed; nothing is written then. The error is for failures of
// the store or a held import blocking this one.
//
// A rejected feed (not a dry run) is stored as an import of status
// "rejected" with its errors and an audit entry, never with its rows.
func ImportFile(ctx context.Context, st Store, cfg *config.Config, src *config.Source, name string, data []byte, opt Options) (Result, error) {
	res, err := importFile(ctx, st, cfg, src, name, data, opt)
	if err != nil || res.Status != store.ImportRejected || opt.DryRun {
		return res, err
	}
	return Reject(ctx, st, src, name, data, res, opt)
}

// MaxStoredErrors bounds the row errors kept with a rejected import; the
// rest are counted in a last error.
const MaxStoredErrors = 1000

// Reject stores a rejected feed: the import with its errors and its audit
// entry, nothing else. res gets the import's ID.
func Reject(ctx context.Context, st Store, src *config.Source, name string, data []byte, res Result, opt Options) (Result, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	if opt.Actor == "" {
		opt.Actor = "system"
	}
	at := now().UTC().Truncate(time.Microsecond)
	imp := store.Import{ID: newImportID(at), Source: src.Name, File: name, Status: store.ImportRejected,
		Actor: opt.Actor, Rows: res.Rows, CreatedAt: at}
	if data != nil {
		sum := sha256.Sum256(data)
		imp.SHA256 = hex.EncodeToString(sum[:])
	}
	for i, e := range res.Errors {
		if i == MaxStoredErrors {
			imp.Errors = append(imp.Errors, store.ImportError{Message: fmt.Sprintf("… and %d more errors", len(res.Errors)-i)})
			break
		}
		imp.Errors = append(imp.Errors, store.ImportError{Row: e.Row, Column: e.Column, Message: e.Message})
	}
	imp.Reason = fmt.Sprintf("%d error(s)", len(res.Errors))
	if err := st.RejectImport(ctx, imp, store.ImportEntry(imp, "hr.import.rejected", opt.Actor, at)); err != nil {
		return res, err
	}
	res.ImportID = imp.ID
	return res, nil
}

func importFile(ctx context.Context, st Store, cfg *config.Config, src *config.Source, name string, data []byte, opt Options) (Result, error) {
	res := Result{Source: src.Name, Status: store.ImportRejected, Errors: []RowError{}}
	format, why := opt.Format, opt.FormatFrom
	if format == "" && src.Format != "" {
		format, why = src.Format, fmt.Sprintf("format: %s on source %q", src.Format, src.Name)
	}
	if why == "" {
		why = "given"
	}
	format, why, err := table.ChooseFormat(format, why, name, data)
	if err != nil {
		res.Errors = append(res.Errors, RowError{Message: err.Error()})
		return res, nil
	}
	// Read the stored workforce on the other core while this one parses.
	pre := make(chan preloaded, 1)
	go func() {
		wf, err := st.Workforce(ctx, src.Name)
		pre <- preloaded{wf, err}
	}()
	t, err := table.Parse(name, format, data, src.Sheet)
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner // the file's name is the caller's to add, as for row errors
		}
		res.Errors = append(res.Errors, RowError{Message: fmt.Sprintf("read as %s (%s): %v", format, why, err)})
		return res, nil
	}
	rows := len(t.Rows)
	res.Rows = rows
	m, errs := NewMapper(src, t.Columns)
	if len(errs) > 0 {
		res.Errors = errs
		return res, nil
	}
	recs := make([]Record, 0, len(t.Rows))
	for _, r := range t.Rows {
		rec, errs := m.Map(r)
		res.Errors = append(res.Errors, errs...)
		recs = append(recs, rec)
	}
	t = nil // the records hold what is needed; the row slices can go
	if len(res.Errors) > 0 {
		return res, nil
	}
	if errs := Validate(m, recs); len(errs) > 0 {
		res.Errors = errs
		return res, nil
	}
	sum := sha256.Sum256(data)
	opt.preloaded = pre
	return Apply(ctx, st, cfg, src, recs, store.Import{File: name, SHA256: hex.EncodeToString(sum[:]), Rows: rows}, opt)
}

// preloaded is a workforce read ahead, with its error.
type preloaded struct {
	wf  store.Workforce
	err error
}

// Apply diffs validated records against the stored workforce and writes
// the result: applied, or held when a safeguard trips. imp carries the
// file facts; the rest is filled in here.
func Apply(ctx context.Context, st Store, cfg *config.Config, src *config.Source, recs []Record, imp store.Import, opt Options) (Result, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	if opt.Actor == "" {
		opt.Actor = "system"
	}
	limit, err := config.ParseLimit(src.Safeguards.MaxLeavers)
	if err != nil {
		return Result{}, fmt.Errorf("source %q: %w", src.Name, err)
	}
	for attempt := 0; ; attempt++ {
		start := time.Now()
		at := now().UTC().Truncate(time.Microsecond)
		var wf store.Workforce
		if attempt == 0 && opt.preloaded != nil {
			p := <-opt.preloaded
			wf, err = p.wf, p.err
		} else {
			wf, err = st.Workforce(ctx, src.Name)
		}
		if err != nil {
			return Result{}, err
		}
		if wf.Held != "" && !opt.DryRun {
			return Result{}, fmt.Errorf("%w: import %s of source %q awaits a decision; run `tango hr approve %s` or `tango hr reject %s` first", ErrHeld, wf.Held, src.Name, wf.Held, wf.Held)
		}
		plan := Diff(wf, recs, at, cfg.Location())
		imp := imp
		imp.ID = newImportID(at)
		imp.Source = src.Name
		imp.Actor = opt.Actor
		imp.CreatedAt = at
		imp.BaseSerial = wf.Serial
		imp.Rows = max(imp.Rows, len(recs))
		imp.Joiners, imp.Movers, imp.Leavers, imp.Rehires = plan.Joiners, plan.Movers, plan.Leavers, plan.Rehires
		imp.Changes, imp.Unchanged = plan.Changes, plan.Unchanged
		imp.Status = store.ImportApplied
		active := 0
		for _, p := range wf.Persons {
			if p.Status == store.StatusActive {
				active++
			}
		}
		if limit.Set() && len(wf.Persons) > 0 && plan.Leavers > limit.Allowed(active) {
			imp.Status = store.ImportHeld
			imp.Reason = fmt.Sprintf("%d leavers exceed max_leavers %s (%d of %d active persons)", plan.Leavers, limit, limit.Allowed(active), active)
		}
		res := Result{ImportID: imp.ID, Source: imp.Source, Status: imp.Status, Rows: imp.Rows,
			Joiners: plan.Joiners, Movers: plan.Movers, Leavers: plan.Leavers, Rehires: plan.Rehires,
			Changes: plan.Changes, Unchanged: plan.Unchanged, Scheduled: plan.Scheduled,
			Reason: imp.Reason, Errors: []RowError{}, Events: plan.Events}
		if opt.DryRun {
			res.Status, res.ImportID = store.ImportDryRun, ""
			return res, nil
		}
		for i := range plan.Events {
			plan.Events[i].ImportID = imp.ID
		}
		var entries []audit.Entry
		if imp.Status != store.ImportHeld {
			// A held import keeps its events as planned (applied or
			// scheduled); they take effect, with their entries, on approval.
			entries = eventEntries(plan.Events, opt.Actor, at)
		}
		imp.Duration = duration.Duration(time.Since(start))
		entries = append(entries, store.ImportEntry(imp, "hr.import."+imp.Status, opt.Actor, at))
		var prov *store.ProvisionBatch
		if opt.Provision != nil && imp.Status == store.ImportApplied {
			if prov, err = opt.Provision(ctx, plan.Persons, plan.Events, at); err != nil {
				return Result{}, err
			}
		}
		err = st.ApplyImport(ctx, imp, plan.Persons, plan.Events, entries, prov)
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue // the source changed under us: diff again
		}
		if err != nil {
			return Result{}, err
		}
		return res, nil
	}
}

func newImportID(at time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "imp_" + at.UTC().Format("20060102T150405") + "_" + hex.EncodeToString(b[:])
}

// eventEntries makes the audit entries of the applied events, in order,
// marshalling their documents on every core.
func eventEntries(events []store.Event, actor string, at time.Time) []audit.Entry {
	idx := make([]int, 0, len(events))
	for i := range events {
		if events[i].State == store.EventApplied {
			events[i].AppliedAt = at
			idx = append(idx, i)
		}
	}
	entries := make([]audit.Entry, len(idx), len(idx)+1)
	workers := min(runtime.GOMAXPROCS(0), max(1, len(idx)/1000))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := w; j < len(idx); j += workers {
				entries[j] = store.EventEntry(events[idx[j]], actor, at)
			}
		}()
	}
	wg.Wait()
	return entries
}

// Decide approves or rejects an import a safeguard held. Approving does
// what the import would have done had it not been held: its events take
// effect and, with opt.Provision set, the access changes they imply are
// planned and queued in the same transaction (a leaver's disables among
// them), its events marked as planned for. opt.Actor decides; opt.Now is
// when.
func Decide(ctx context.Context, st Store, id string, approve bool, opt Options) (store.Import, error) {
	at := time.Now()
	if opt.Now != nil {
		at = opt.Now()
	}
	at = at.UTC().Truncate(time.Microsecond)
	if opt.Actor == "" {
		opt.Actor = "system"
	}
	var prov *store.ProvisionBatch
	if approve && opt.Provision != nil {
		persons, events, err := st.HeldImport(ctx, id)
		if err != nil {
			return store.Import{}, err
		}
		for i := range events {
			if events[i].State == store.EventApplied {
				events[i].AppliedAt = at
			}
		}
		if prov, err = opt.Provision(ctx, persons, events, at); err != nil {
			return store.Import{}, err
		}
	}
	return decide(ctx, st, id, approve, opt.Actor, at, prov)
}

// decide approves (applying the held persons and events, which must
// still fit the current state) or rejects a held import in one
// transaction, with audit entries: approving does what ApplyImport does
// for an applied import (a non-nil prov is queued and the import's
// applied events marked provisioned) and moves the source's serial on.
// Either way the source is no longer held.
func decide(ctx context.Context, st Store, id string, approve bool, actor string, at time.Time, prov *store.ProvisionBatch) (store.Import, error) {
	var imp store.Import
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if imp, err = tx.Import(id); err != nil {
			return err
		}
		if imp.Status != store.ImportHeld {
			return fmt.Errorf("import %s is %s, not held: nothing to decide", id, imp.Status)
		}
		serial, err := tx.SourceSerial(imp.Source)
		if err != nil {
			return err
		}
		imp.DecidedBy, imp.DecidedAt = actor, at
		action := "hr.import.rejected"
		if approve {
			if serial != imp.BaseSerial {
				return fmt.Errorf("%w: source %q changed since import %s was held; reject it and import again", store.ErrConflict, imp.Source, id)
			}
			persons, events, err := tx.HeldChanges(id)
			if err != nil {
				return err
			}
			if err := unchangedSince(tx, id, events); err != nil {
				return err
			}
			var entries []audit.Entry
			for i := range events {
				e := &events[i]
				if e.State == store.EventApplied {
					e.AppliedAt = at
					entries = append(entries, store.EventEntry(*e, actor, at))
				}
			}
			if err := tx.ApplyChanges(persons, events, prov != nil, entries); err != nil {
				return err
			}
			if err := tx.QueueProvision(prov); err != nil {
				return err
			}
			if err := tx.BumpSourceSerial(imp.Source); err != nil {
				return err
			}
			action, imp.Status = "hr.import.approved", store.ImportApplied
		} else {
			imp.Status = store.ImportRejected
		}
		if err := tx.SetHeldImport(imp.Source, ""); err != nil {
			return err
		}
		if err := tx.SetImportDecision(imp); err != nil {
			return err
		}
		return tx.AppendAudit(store.ImportEntry(imp, action, actor, at))
	})
	return imp, err
}

// unchangedSince checks that every person a held import changes is still
// as the import saw them (pushes and scheduled events may have changed
// them since): approving must never apply a stale record.
func unchangedSince(tx store.Tx, id string, events []store.Event) error {
	seen := map[string]bool{}
	for _, e := range events {
		if seen[e.Source+"\x00"+e.EmployeeID] {
			continue
		}
		seen[e.Source+"\x00"+e.EmployeeID] = true
		status, updated, err := tx.PersonVersion(e.Source, e.EmployeeID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if e.Before == nil {
				continue // still absent, as the import saw it
			}
		case err != nil:
			return err
		case e.Before != nil && e.Before.Status == status && micro(e.Before.UpdatedAt) == micro(updated):
			continue
		}
		return fmt.Errorf("%w: person %s changed after import %s was held; reject it and import again", store.ErrConflict, e.EmployeeID, id)
	}
	return nil
}

package web

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/store"
)

type importsData struct {
	Sources   []string
	Held      []store.Import
	Imports   []store.Import
	CanWrite  bool
	CanDecide bool
	Pager     pager
}

// imports lists HR imports, the held ones first with their decision, then
// the newest a page at a time (?page=), and offers the upload of a
// snapshot (previewed before it is applied).
func (pg *Pages) imports(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me := authz.From(ctx)
	n, err := pageParam(r)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	d := importsData{CanWrite: me.Can(authz.ImportsWrite), CanDecide: me.Can(authz.ImportsDecide)}
	for _, s := range pg.o.Config.Sources {
		if s.Kind == "file" {
			d.Sources = append(d.Sources, s.Name)
		}
	}
	if d.Held, err = pg.o.Store.ImportsBy(ctx, store.ImportFilter{Status: store.ImportHeld, Limit: 100}); err != nil {
		pg.fail(w, r, err)
		return
	}
	all, err := pg.o.Store.ImportsBy(ctx, store.ImportFilter{Offset: (n - 1) * PageSize, Limit: PageSize + 1})
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	d.Imports, d.Pager = window(r, all, n)
	pg.render(w, r, http.StatusOK, "imports", "HR imports", d)
}

type previewData struct {
	Source, File, SHA256 string
	Data                 string // the snapshot, base64, sent back to apply it
	Result               hr.Result
}

// upload reads an uploaded snapshot: the source, the file name and bytes
// (from a file field, or base64 from the preview's apply form).
func (pg *Pages) upload(w http.ResponseWriter, r *http.Request) (*config.Source, string, []byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, pg.o.MaxImportBytes*2)
	if err := r.ParseMultipartForm(8 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return nil, "", nil, invalid("reading the upload: %v (the limit is %d bytes)", err, pg.o.MaxImportBytes)
	}
	src, err := pg.o.Config.Source(r.FormValue("source"))
	if err != nil {
		return nil, "", nil, invalid("%v", err)
	}
	if src.Kind != "file" {
		return nil, "", nil, invalid("source %q is of kind %s: it is pushed over SCIM, not uploaded", src.Name, src.Kind)
	}
	var name string
	var data []byte
	if f, h, ferr := r.FormFile("file"); ferr == nil {
		defer f.Close()
		data, err = io.ReadAll(io.LimitReader(f, pg.o.MaxImportBytes+1))
		if err != nil {
			return nil, "", nil, invalid("reading the file: %v", err)
		}
		name = path.Base(strings.ReplaceAll(h.Filename, `\`, "/"))
	} else if v := r.FormValue("data"); v != "" {
		data, err = base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, "", nil, invalid("the previewed snapshot came back damaged; upload it again")
		}
		name = path.Base(r.FormValue("name"))
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != r.FormValue("sha256") {
			return nil, "", nil, invalid("the snapshot differs from the one previewed; upload it again")
		}
	}
	if len(data) == 0 {
		return nil, "", nil, invalid("no file: choose the HR snapshot to upload")
	}
	if int64(len(data)) > pg.o.MaxImportBytes {
		return nil, "", nil, invalid("the snapshot is larger than the limit of %d bytes", pg.o.MaxImportBytes)
	}
	return src, name, data, nil
}

// previewImport runs an uploaded snapshot as a dry run: what it would do
// (joiners, movers, leavers, rehires, changes) and its row errors, with
// the button that applies it.
func (pg *Pages) previewImport(w http.ResponseWriter, r *http.Request) {
	src, name, data, err := pg.upload(w, r)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	res, err := pg.o.Imports.Import(r.Context(), hr.File{Source: src, Name: name, Data: data, DryRun: true, Actor: authz.From(r.Context()).Actor()})
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	sum := sha256.Sum256(data)
	d := previewData{Source: src.Name, File: name, SHA256: hex.EncodeToString(sum[:]), Data: base64.StdEncoding.EncodeToString(data), Result: res}
	pg.render(w, r, http.StatusOK, "import_preview", "Preview of "+name, d)
}

// applyImport applies the previewed snapshot.
func (pg *Pages) applyImport(w http.ResponseWriter, r *http.Request) {
	src, name, data, err := pg.upload(w, r)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	res, err := pg.o.Imports.Import(r.Context(), hr.File{Source: src, Name: name, Data: data, Actor: authz.From(r.Context()).Actor()})
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	pg.o.Host.Imported()
	if res.ImportID == "" {
		pg.fail(w, r, invalid("the snapshot was not applied: %s", res.Status))
		return
	}
	seeOther(w, r, "/imports/"+res.ImportID, fmt.Sprintf("Import %s: %s.", res.ImportID, res.Status))
}

type importData struct {
	Import    store.Import
	Events    []store.Event
	CanDecide bool
}

// importDetail is one import with the events it produced (for a held
// import: the diff waiting for a decision).
func (pg *Pages) importDetail(w http.ResponseWriter, r *http.Request) {
	imp, err := pg.o.Store.Import(r.Context(), r.PathValue("id"))
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	var evs []store.Event
	if imp.Status == store.ImportHeld {
		_, evs, err = pg.o.Store.HeldImport(r.Context(), imp.ID) // the diff kept until the decision
	} else {
		evs, err = pg.o.Store.Events(r.Context(), store.EventFilter{ImportID: imp.ID, Limit: 1000})
	}
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	d := importData{Import: imp, Events: evs, CanDecide: imp.Status == store.ImportHeld && authz.From(r.Context()).Can(authz.ImportsDecide)}
	pg.render(w, r, http.StatusOK, "import", "Import "+imp.ID, d)
}

func (pg *Pages) approveImport(w http.ResponseWriter, r *http.Request) { pg.decideImport(w, r, true) }
func (pg *Pages) rejectImport(w http.ResponseWriter, r *http.Request)  { pg.decideImport(w, r, false) }

// decideImport approves (applies) or rejects a held import.
func (pg *Pages) decideImport(w http.ResponseWriter, r *http.Request, approve bool) {
	imp, err := pg.o.Imports.Decide(r.Context(), r.PathValue("id"), approve, authz.From(r.Context()).Actor())
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	if approve {
		pg.o.Host.Imported()
	}
	seeOther(w, r, "/imports/"+imp.ID, fmt.Sprintf("Import %s is %s.", imp.ID, imp.Status))
}

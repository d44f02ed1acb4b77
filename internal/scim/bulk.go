package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/tango-iga/tango/internal/store"
)

type bulkOp struct {
	Method  string          `json:"method"`
	BulkID  string          `json:"bulkId,omitempty"`
	Version string          `json:"version,omitempty"`
	Path    string          `json:"path"`
	Data    json.RawMessage `json:"data,omitempty"`
}

type bulkRequest struct {
	Schemas      []string `json:"schemas"`
	FailOnErrors int      `json:"failOnErrors"`
	Operations   []bulkOp `json:"Operations"`
}

type bulkResult struct {
	Method   string          `json:"method"`
	BulkID   string          `json:"bulkId,omitempty"`
	Version  string          `json:"version,omitempty"`
	Location string          `json:"location,omitempty"`
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response,omitempty"`
}

// bulk runs the operations of a Bulk request in order (RFC 7644 section
// 3.7): "bulkId:x" references in paths and data are replaced by the id
// created for x; an operation referring to a bulkId not created (yet)
// fails with 409 invalidValue; failOnErrors stops after that many errors.
//
// As Entra's API-driven inbound provisioning expects, a POST /Users whose
// externalId names an existing user updates that user (PUT) instead of
// failing on uniqueness.
func (h *Handler) bulk(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			writeErr(w, &Error{Status: http.StatusRequestEntityTooLarge, Detail: "the bulk request is larger than maxPayloadSize " + strconv.Itoa(MaxBulkBytes)})
			return
		}
		writeErr(w, errSyntax("reading the body failed"))
		return
	}
	if e := checkBody(b); e != nil {
		writeErr(w, e)
		return
	}
	var req bulkRequest
	if err := json.Unmarshal(b, &req); err != nil {
		writeErr(w, errSyntax("Bulk body: %v", err))
		return
	}
	if len(req.Operations) > MaxBulkOps {
		writeErr(w, &Error{Status: http.StatusRequestEntityTooLarge, Detail: "more than maxOperations " + strconv.Itoa(MaxBulkOps) + " operations"})
		return
	}
	for i, op := range req.Operations {
		if e := refuseNestedBulk(i, op); e != nil {
			writeErr(w, e)
			return
		}
	}
	ids := map[string]string{}
	var results []bulkResult
	errs := 0
	for _, op := range req.Operations {
		if req.FailOnErrors > 0 && errs >= req.FailOnErrors {
			break
		}
		res := bulkResult{Method: strings.ToUpper(op.Method), BulkID: op.BulkID}
		fail := func(e *Error) {
			errs++
			res.Status = strconv.Itoa(e.Status)
			res.Response, _ = json.Marshal(e)
			results = append(results, res)
		}
		if res.Method == http.MethodPost && op.BulkID == "" {
			fail(errSyntax("a POST operation needs a bulkId"))
			continue
		}
		path, data, missing := resolveBulkIDs(op.Path, op.Data, ids)
		if missing != "" {
			fail(&Error{Status: http.StatusConflict, ScimType: "invalidValue", Detail: "bulkId " + missing + " is not defined by an earlier operation"})
			continue
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		lower := strings.ToLower(path)
		if res.Method == http.MethodPost && lower == "/users" {
			// Entra inbound provisioning: POST is an upsert by externalId.
			var m map[string]any
			if json.Unmarshal(data, &m) == nil {
				if ext := getStr(m, "externalId"); ext != "" {
					xs, _, err := h.st.SCIMResources(r.Context(), store.SCIMQuery{Type: store.SCIMUser, ExternalID: ext})
					if err == nil && len(xs) == 1 {
						res.Method = http.MethodPut
						path = "/Users/" + xs[0].ID
					}
				}
			}
		}
		sub, _ := http.NewRequestWithContext(r.Context(), res.Method, Prefix+path, bytes.NewReader(data))
		sub.Host = r.Host
		sub.TLS = r.TLS
		if op.Version != "" {
			sub.Header.Set("If-Match", op.Version)
		}
		rec := httptest.NewRecorder()
		h.dispatch(rec, sub)
		res.Method = strings.ToUpper(op.Method)
		res.Status = strconv.Itoa(rec.Code)
		res.Location = rec.Header().Get("Location")
		res.Version = rec.Header().Get("ETag")
		if rec.Code >= 400 {
			errs++
			res.Response = json.RawMessage(rec.Body.Bytes())
		} else if op.BulkID != "" && res.Location != "" {
			ids[op.BulkID] = res.Location[strings.LastIndexByte(res.Location, '/')+1:]
		}
		results = append(results, res)
	}
	if results == nil {
		results = []bulkResult{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{URNBulkResponse}, "Operations": results})
}

// nestedBulk refuses an operation that is itself a Bulk request: by its
// path, or by its data naming the BulkRequest schema. A Bulk within a
// Bulk would decode and answer the same bytes once per level.
func refuseNestedBulk(i int, op bulkOp) *Error {
	p := strings.ToLower(strings.Trim(op.Path, "/"))
	if p, _, _ = strings.Cut(p, "?"); p == "bulk" || strings.HasPrefix(p, "bulk/") {
		return errValue("Bulk operation %d: its path is %s, and a Bulk request cannot be an operation of another", i+1, op.Path)
	}
	if len(op.Data) > 0 && bytes.Contains(op.Data, []byte("BulkRequest")) {
		var d struct {
			Schemas []string `json:"schemas"`
		}
		_ = json.Unmarshal(op.Data, &d)
		for _, s := range d.Schemas {
			if strings.EqualFold(s, URNBulkRequest) {
				return errValue("Bulk operation %d: its data is a BulkRequest, and a Bulk request cannot be the data of another", i+1)
			}
		}
	}
	return nil
}

// resolveBulkIDs replaces "bulkId:x" in the path and in string values of
// data; missing names the first reference not yet known.
func resolveBulkIDs(path string, data json.RawMessage, ids map[string]string) (string, []byte, string) {
	missing := ""
	repl := func(s string) string {
		ref, ok := strings.CutPrefix(s, "bulkId:")
		if !ok {
			return s
		}
		if id, ok := ids[ref]; ok {
			return id
		}
		if missing == "" {
			missing = ref
		}
		return s
	}
	parts := strings.Split(path, "/")
	for i := range parts {
		parts[i] = repl(parts[i])
	}
	path = strings.Join(parts, "/")
	if len(data) == 0 || !bytes.Contains(data, []byte("bulkId:")) {
		return path, data, missing
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return path, data, missing
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			return repl(x)
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		}
		return v
	}
	out, _ := json.Marshal(walk(v))
	return path, out, missing
}

package api

import (
	_ "embed"
	"net/http"
)

// OpenAPI is the hand-written OpenAPI 3.0 document of /api/v1.
//
//go:embed openapi.json
var OpenAPI []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(OpenAPI)
}

package main

import (
	"net"
	"testing"

	"github.com/tango-iga/tango/internal/config"
)

// Absolute URLs start with server.base_url, else with the address listened
// on: never with what a request says its Host is.
func TestPublicURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got, want := publicURL(&config.Config{}, ln), "http://"+ln.Addr().String(); got != want {
		t.Fatalf("without server.base_url: %q, want %q", got, want)
	}
	cfg := &config.Config{Server: config.Server{BaseURL: "https://tango.example.com"}}
	if got := publicURL(cfg, ln); got != "https://tango.example.com" {
		t.Fatalf("with server.base_url: %q", got)
	}
}

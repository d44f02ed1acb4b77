package config

import (
	"strings"
	"testing"
)

func TestServerBaseURL(t *testing.T) {
	for doc, want := range map[string]string{
		"server: {base_url: https://tango.example.com/}":   "https://tango.example.com",
		"server: {base_url: 'http://10.0.0.1:8080/tango'}": "http://10.0.0.1:8080/tango",
		"org: {name: X}": "",
	} {
		c, err := Parse([]byte(doc), "tango.yaml")
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		if c.Server.BaseURL != want {
			t.Fatalf("%s: base URL %q, want %q", doc, c.Server.BaseURL, want)
		}
	}
	for _, bad := range []string{"tango.example.com", "/scim", "ftp://x", "https://", "https://x/?a=b", "https://x/#f", "http//x"} {
		_, err := Parse([]byte("server: {base_url: '"+bad+"'}"), "tango.yaml")
		if err == nil || !strings.Contains(err.Error(), "server.base_url") || !strings.Contains(err.Error(), bad) {
			t.Fatalf("base_url %q: %v, want an error naming it", bad, err)
		}
	}
	if _, err := Parse([]byte("server: {base_url: 'https://u:secret@x'}"), "tango.yaml"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("base_url with a password: %v, want an error not echoing it", err)
	}
}

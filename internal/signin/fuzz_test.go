package signin

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzNext: whatever ?next= holds, sign-in sends the browser to a path of
// Tango itself, never to another site.
func FuzzNext(f *testing.F) {
	for _, s := range []string{"/", "/api/v1/tasks?x=1", "//evil.example", "/\\evil.example", "https://evil.example/",
		"/%2F/evil.example", "javascript:alert(1)", "", "\\\\evil", "/\t/evil.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, n string) {
		r := httptest.NewRequest("POST", "/login?next="+url.QueryEscape(n), nil)
		got := next(r)
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") {
			t.Fatalf("next(%q) = %q: not a local path", n, got)
		}
		// A browser ignores tabs and newlines in URLs: none may be left
		// to turn the path into //host.
		if c := strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(got); strings.HasPrefix(c, "//") || strings.HasPrefix(c, "/\\") {
			t.Fatalf("next(%q) = %q: a browser reads it as another host", n, got)
		}
	})
}

// FuzzVerifyPassword: a stored hash of any shape is refused or checked,
// never a panic, and a password never matches a hash of another.
func FuzzVerifyPassword(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA", "pw")
	f.Add("$argon2id$v=19$m=0,t=0,p=0$$", "")
	f.Add("$argon2id$v=19$m=1048577,t=2,p=1$c2FsdA$aGFzaA", "x")
	f.Fuzz(func(t *testing.T, phc, pw string) {
		if VerifyPassword(phc, pw) {
			t.Fatalf("%q matches the hash %q nobody made from it", pw, phc)
		}
	})
}

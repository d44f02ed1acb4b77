package config

import (
	"fmt"
	"net/url"
	"strings"
)

// Server is how Tango's HTTP server is reached.
type Server struct {
	// BaseURL is the absolute http(s) URL clients reach Tango at, such as
	// https://tango.example.com (behind a proxy: the proxy's). Every
	// absolute URL Tango writes (SCIM meta.location, ...) starts with it;
	// none is taken from a request's Host or X-Forwarded-* headers.
	// Empty: the address `tango serve` listens on.
	BaseURL string `yaml:"base_url"`
}

func (s *Server) finish() error {
	if s.BaseURL == "" {
		return nil
	}
	u, err := url.Parse(s.BaseURL)
	if err == nil && u.User != nil {
		// Not echoed: it carries a credential.
		return fmt.Errorf("server.base_url: must not carry a user or password")
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s.BaseURL, "?") || strings.HasSuffix(s.BaseURL, "#") {
		return fmt.Errorf("server.base_url %q: want an absolute http(s) URL without query or fragment, such as https://tango.example.com", s.BaseURL)
	}
	s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	return nil
}

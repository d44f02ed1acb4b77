// Package webhook is a connector.Connector for apps that are told about
// changes by HTTP: every change (create, update, disable, enable, grant,
// revoke) is one POST of a JSON Delivery to the app's URL, signed with
// HMAC-SHA256 and retried.
//
// A delivery looks like
//
//	{"id": "5f0c…", "type": "account.disabled", "occurred_at": "2025-01-02T03:04:05Z",
//	 "text": "Tango: disable account jdoe (E123) in crm",
//	 "account": {"id": "", "key": "E123", "name": "jdoe", "attributes": {"mail": ["jdoe@example.com"]},
//	             "entitlements": [], "disabled": true},
//	 "entitlement": ""}
//
// with the headers
//
//	Content-Type: application/json
//	X-Tango-Delivery: <the delivery id>
//	X-Tango-Timestamp: <unix seconds>
//	X-Tango-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// Receivers check them with Verify. The delivery id is the same for every
// retry of one call (the timestamp and signature are made afresh for each
// attempt), so a receiver that gets a delivery twice can drop the second.
// The top-level "text" is a one-line summary, so chat tools' incoming
// webhooks (Slack, Teams) accept the delivery as a message.
//
// The account's "disabled" field is Tango's view; a receiver should change
// an account's state on account.disabled and account.enabled deliveries
// only. account.sessions_revoked (sent after a leaver's account.disabled)
// asks the receiver to end every session and token of the account; it
// changes nothing else, and receiving it twice is harmless. "entitlements" too is what Tango passed along, not the full set:
// entitlement.granted and entitlement.revoked name the one that changes.
//
// Reading accounts back (Get, List, and so reconcile) needs Config.ListURL:
// a GET endpoint answering ?startIndex=N&count=M (startIndex from 1) and
// ?key=K with {"accounts": [<account as above>...], "total": T}; an account
// there may carry "last_activity" (RFC 3339), when the person last signed
// in, which access reviews show. Those
// requests are signed too, over an empty body. Without a ListURL, Get and
// List return ErrNotReadable.
//
// Rate limits (429, with Retry-After), server errors (5xx) and network
// errors are retried with backoff, then reported as
// connector.TemporaryError. Other statuses are permanent errors (*Error)
// with the response's text, shortened. The secret never appears in errors,
// nor do the URLs' paths and queries (chat webhook URLs are credentials):
// errors name the app by scheme and host.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/httpclient"
)

// Delivery types.
const (
	EventAccountCreated     = "account.created"
	EventAccountUpdated     = "account.updated"
	EventAccountDisabled    = "account.disabled"
	EventAccountEnabled     = "account.enabled"
	EventEntitlementGranted = "entitlement.granted"
	EventEntitlementRevoked = "entitlement.revoked"
	// EventSessionsRevoked asks the app to end every session and token of
	// the account (sent after a leaver's account.disabled).
	EventSessionsRevoked = "account.sessions_revoked"
)

// Headers of a delivery, and the prefix of the signature.
const (
	HeaderDelivery  = "X-Tango-Delivery"
	HeaderTimestamp = "X-Tango-Timestamp"
	HeaderSignature = "X-Tango-Signature"
	SignaturePrefix = "sha256="
)

// Defaults for Config fields left zero.
const (
	DefaultPageSize     = 100
	DefaultMaxRetries   = 3
	DefaultTimeout      = 30 * time.Second
	DefaultRetryBase    = 500 * time.Millisecond
	DefaultMaxRetryWait = 30 * time.Second
	// DefaultMaxSkew is the replay window Verify uses when given 0.
	DefaultMaxSkew = 5 * time.Minute
	// MaxResponseBytes bounds the responses read.
	MaxResponseBytes = 10 << 20
	// MaxErrorText bounds the response text an Error carries, in runes.
	MaxErrorText = 200
)

// ErrNotReadable is returned (wrapped) by Get and List when the app has no
// ListURL: the accounts cannot be read back, so reconcile cannot compare.
// It is neither connector.ErrNotFound nor temporary.
var ErrNotReadable = connector.ErrNotReadable

// Verify errors.
var (
	ErrBadSignature = errors.New("webhook: bad signature")
	ErrStale        = errors.New("webhook: timestamp outside the replay window")
)

// Config configures a webhook connector.
type Config struct {
	// URL receives the deliveries (http or https). Required.
	URL string
	// Secret is the HMAC-SHA256 key the deliveries are signed with.
	// Required. It is never logged nor put in errors.
	Secret string
	// ListURL, optional, is a GET endpoint listing the app's accounts (see
	// the package documentation). Without it Get and List return
	// ErrNotReadable.
	ListURL string
	// AppName names the app in the deliveries' text ("… in crm").
	AppName string
	// PageSize is the count asked of ListURL per page; default 100.
	PageSize int
	// HTTPClient makes the requests; default a client with Timeout that
	// does not follow redirects (a redirected POST would be lost).
	HTTPClient *http.Client
	// Timeout bounds each request when HTTPClient is nil; default 30 s.
	Timeout time.Duration
	// MaxRetries is how many times a request that failed temporarily (429,
	// 5xx, network) is repeated; default 3, negative for none.
	MaxRetries int
	// RetryBase is the wait before the first retry, doubled for each next
	// one (with jitter); default 500 ms. A Retry-After from the receiver
	// replaces it.
	RetryBase time.Duration
	// MaxRetryWait is the longest the connector waits before a retry; when
	// the receiver asks for more, the TemporaryError is returned at once
	// (with RetryAfter) for the caller to schedule. Default 30 s.
	MaxRetryWait time.Duration
	// Headers are extra static headers sent with every request (deliveries
	// and list requests), e.g. an Authorization the receiver wants. They
	// cannot replace Content-Type, Host, Content-Length or X-Tango-*.
	// Values of 8 characters or more are treated as credentials: hidden
	// in errors like the secret.
	Headers map[string]string
}

// Account is an account as deliveries carry it and ListURL reports it.
type Account struct {
	ID           string              `json:"id"`
	Key          string              `json:"key"`
	Name         string              `json:"name"`
	Attributes   map[string][]string `json:"attributes"`
	Entitlements []string            `json:"entitlements"`
	Disabled     bool                `json:"disabled"`
	// LastActivity, in a ListURL answer only, is when the person last
	// signed in to the app (RFC 3339), where the app knows it.
	LastActivity string `json:"last_activity,omitempty"`
}

// Delivery is the JSON body of a POST.
type Delivery struct {
	ID          string  `json:"id"`
	Type        string  `json:"type"`
	OccurredAt  string  `json:"occurred_at"` // RFC 3339, UTC
	Text        string  `json:"text"`
	Account     Account `json:"account"`
	Entitlement string  `json:"entitlement,omitempty"`
}

// Page is what ListURL answers.
type Page struct {
	Accounts []Account `json:"accounts"`
	Total    int       `json:"total"`
}

// Connector sends deliveries to one app. It is safe for concurrent use.
type Connector struct {
	cfg       Config
	client    *http.Client
	ownHTTP   bool
	label     string   // scheme://host of URL, for errors
	listURL   *url.URL // nil without ListURL
	listLabel string
	hidden    []string // secret and credential-like header values
	policy    httpclient.Policy
}

var (
	_ connector.Connector      = (*Connector)(nil)
	_ connector.SessionRevoker = (*Connector)(nil)
)

// FromConfig checks cfg and returns a connector; it makes no request.
func FromConfig(cfg Config) (*Connector, error) {
	u, err := checkURL("URL", cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Secret == "" {
		return nil, errors.New("webhook: Secret is required")
	}
	c := &Connector{label: u.Scheme + "://" + u.Host, hidden: []string{cfg.Secret}}
	if cfg.ListURL != "" {
		if c.listURL, err = checkURL("ListURL", cfg.ListURL); err != nil {
			return nil, err
		}
		c.listLabel = c.listURL.Scheme + "://" + c.listURL.Host
	}
	hdr := map[string]string{}
	for k, v := range cfg.Headers {
		ck := http.CanonicalHeaderKey(strings.TrimSpace(k))
		switch {
		case ck == "" || strings.ContainsAny(ck, " \t\r\n:"):
			return nil, fmt.Errorf("webhook: Headers: bad header name %q", k)
		case strings.ContainsAny(v, "\r\n\x00"):
			return nil, fmt.Errorf("webhook: Headers[%s]: value has a line break", ck)
		case ck == "Content-Type" || ck == "Content-Length" || ck == "Host" || strings.HasPrefix(ck, "X-Tango-"):
			return nil, fmt.Errorf("webhook: Headers: %s is set by the connector", ck)
		}
		if _, dup := hdr[ck]; dup {
			return nil, fmt.Errorf("webhook: Headers: %s given twice", ck)
		}
		hdr[ck] = v
		if len(v) >= 8 {
			c.hidden = append(c.hidden, v)
		}
	}
	cfg.Headers = hdr
	// Longest first, so that a value containing another is hidden whole.
	slices.SortFunc(c.hidden, func(a, b string) int { return len(b) - len(a) })
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = DefaultRetryBase
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = DefaultMaxRetryWait
	}
	c.cfg = cfg
	c.policy = httpclient.Policy{
		MaxRetries: cfg.MaxRetries,
		MaxWait:    cfg.MaxRetryWait,
		Base:       cfg.RetryBase,
		Ceiling:    cfg.MaxRetryWait,
		MaxBody:    MaxResponseBytes,
		Redactor:   httpclient.NewRedactor(c.hidden...),
	}
	c.client = cfg.HTTPClient
	if c.client == nil {
		c.client = &http.Client{
			Timeout:       cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		c.ownHTTP = true
	}
	return c, nil
}

func checkURL(what, s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Not the URL itself: it may hold a credential.
		return nil, fmt.Errorf("webhook: %s is not an http(s) URL", what)
	}
	if u.User != nil {
		return nil, fmt.Errorf("webhook: %s must not hold credentials; use Headers", what)
	}
	return u, nil
}

// Close releases idle connections.
func (c *Connector) Close() error {
	if c.ownHTTP {
		c.client.CloseIdleConnections()
	}
	return nil
}

// ------------------------------------------------------------ changes

// Create sends account.created. The returned account's ID is the one the
// receiver answers with ({"account": {"id": …}}), else a.ID, else the one
// ListURL reports for the key, else the key.
func (c *Connector) Create(ctx context.Context, a connector.Account) (connector.Account, error) {
	if a.Key == "" {
		return a, errors.New("webhook: Create: account has no key")
	}
	data, err := c.deliver(ctx, EventAccountCreated, a, "")
	if err != nil {
		return a, err
	}
	var resp struct {
		Account struct {
			ID string `json:"id"`
		} `json:"account"`
	}
	if json.Unmarshal(data, &resp) == nil && resp.Account.ID != "" {
		a.ID = resp.Account.ID
		return a, nil
	}
	if a.ID != "" {
		return a, nil
	}
	a.ID = a.Key
	if c.listURL != nil {
		// The receiver may apply deliveries later (202): the key then.
		if got, err := c.get(ctx, a.Key); err == nil && got.ID != "" {
			a.ID = got.ID
		}
	}
	return a, nil
}

// Update sends account.updated.
func (c *Connector) Update(ctx context.Context, a connector.Account) error {
	_, err := c.deliver(ctx, EventAccountUpdated, a, "")
	return err
}

// Disable sends account.disabled (with account.disabled true).
func (c *Connector) Disable(ctx context.Context, a connector.Account) error {
	a.Disabled = true
	_, err := c.deliver(ctx, EventAccountDisabled, a, "")
	return err
}

// Enable sends account.enabled (with account.disabled false).
func (c *Connector) Enable(ctx context.Context, a connector.Account) error {
	a.Disabled = false
	_, err := c.deliver(ctx, EventAccountEnabled, a, "")
	return err
}

// Grant sends entitlement.granted.
func (c *Connector) Grant(ctx context.Context, a connector.Account, entitlement string) error {
	if entitlement == "" {
		return errors.New("webhook: Grant: empty entitlement")
	}
	_, err := c.deliver(ctx, EventEntitlementGranted, a, entitlement)
	return err
}

// Revoke sends entitlement.revoked.
func (c *Connector) Revoke(ctx context.Context, a connector.Account, entitlement string) error {
	if entitlement == "" {
		return errors.New("webhook: Revoke: empty entitlement")
	}
	_, err := c.deliver(ctx, EventEntitlementRevoked, a, entitlement)
	return err
}

// RevokesSessions is true: every receiver is told, and ends the sessions
// if it can.
func (c *Connector) RevokesSessions() bool { return true }

// RevokeSessions sends account.sessions_revoked; a 404 from the receiver
// is connector.ErrNotFound (no such account: nothing to end).
func (c *Connector) RevokeSessions(ctx context.Context, a connector.Account) error {
	_, err := c.deliver(ctx, EventSessionsRevoked, a, "")
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return fmt.Errorf("%w: %w", err, connector.ErrNotFound)
	}
	return err
}

// deliver POSTs one delivery (with retries, under one delivery id) and
// returns the 2xx response's body.
func (c *Connector) deliver(ctx context.Context, typ string, a connector.Account, entitlement string) ([]byte, error) {
	if a.Key == "" && a.ID == "" {
		return nil, fmt.Errorf("webhook: %s: account has neither ID nor key", typ)
	}
	id, err := newID()
	if err != nil {
		return nil, fmt.Errorf("webhook: %s: delivery id: %v", typ, err)
	}
	acc := wireAccount(a)
	d := Delivery{
		ID:          id,
		Type:        typ,
		OccurredAt:  time.Now().UTC().Format(time.RFC3339),
		Text:        Summary(typ, acc, entitlement, c.cfg.AppName),
		Account:     acc,
		Entitlement: entitlement,
	}
	body, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("webhook: %s: %v", typ, err)
	}
	status, data, err := c.call(ctx, http.MethodPost, c.cfg.URL, c.label, id, body)
	if err != nil {
		return nil, err
	}
	if status < 200 || status > 299 {
		return nil, c.apiError(http.MethodPost, c.label, id, status, data)
	}
	return data, nil
}

func wireAccount(a connector.Account) Account {
	w := Account{ID: a.ID, Key: a.Key, Name: a.Name, Attributes: a.Attributes, Entitlements: a.Entitlements, Disabled: a.Disabled}
	if w.Attributes == nil {
		w.Attributes = map[string][]string{}
	}
	if w.Entitlements == nil {
		w.Entitlements = []string{}
	}
	return w
}

// Summary is the one-line human text of a delivery, for example
// "Tango: disable account jdoe (E123) in crm". Control characters become
// spaces and &, <, > are escaped as chat tools (Slack) require, so that a
// name cannot mention a channel.
func Summary(typ string, a Account, entitlement, app string) string {
	who := a.Name
	switch {
	case a.Name != "" && a.Key != "" && a.Name != a.Key:
		who = a.Name + " (" + a.Key + ")"
	case a.Name == "" && a.Key != "":
		who = a.Key
	case who == "":
		who = a.ID
	}
	var s string
	switch typ {
	case EventAccountCreated:
		s = "create account " + who
	case EventAccountUpdated:
		s = "update account " + who
	case EventAccountDisabled:
		s = "disable account " + who
	case EventAccountEnabled:
		s = "enable account " + who
	case EventEntitlementGranted:
		s = "grant " + entitlement + " to account " + who
	case EventEntitlementRevoked:
		s = "revoke " + entitlement + " from account " + who
	case EventSessionsRevoked:
		s = "end every session and token of account " + who
	default:
		s = typ + " " + who
	}
	if app != "" {
		s += " in " + app
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = truncate(s, 300)
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
	return "Tango: " + s
}

// newID returns a random (version 4) UUID.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// ------------------------------------------------------------ reads

// Get reads the account whose key is key from ListURL (?key=); a 404 or
// an empty answer is connector.ErrNotFound. Without ListURL it returns
// ErrNotReadable.
func (c *Connector) Get(ctx context.Context, key string) (connector.Account, error) {
	if c.listURL == nil {
		return connector.Account{}, fmt.Errorf("webhook %s: Get %s: %w", c.label, key, ErrNotReadable)
	}
	return c.get(ctx, key)
}

func (c *Connector) get(ctx context.Context, key string) (connector.Account, error) {
	page, status, err := c.page(ctx, url.Values{"key": {key}})
	if status == http.StatusNotFound {
		return connector.Account{}, fmt.Errorf("webhook: no account with key %q at %s: %w", key, c.listLabel, connector.ErrNotFound)
	}
	if err != nil {
		return connector.Account{}, err
	}
	var found []connector.Account
	for _, a := range page.Accounts {
		if a.Key == key {
			found = append(found, a)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return connector.Account{}, fmt.Errorf("webhook: %d accounts with key %q at %s", len(found), key, c.listLabel)
	case len(page.Accounts) > 0:
		// A list endpoint that ignores ?key= must not make accounts look absent.
		return connector.Account{}, fmt.Errorf("webhook: GET %s?key=%s answered other accounts; does the list endpoint support ?key=?", c.listLabel, url.QueryEscape(key))
	}
	return connector.Account{}, fmt.Errorf("webhook: no account with key %q at %s: %w", key, c.listLabel, connector.ErrNotFound)
}

// List pages through ListURL (?startIndex=1&count=PageSize, …) and calls fn
// for each account. Without ListURL it returns ErrNotReadable.
func (c *Connector) List(ctx context.Context, fn func(connector.Account) error) error {
	if c.listURL == nil {
		return fmt.Errorf("webhook %s: List: %w", c.label, ErrNotReadable)
	}
	start := 1
	prevFirst := ""
	for {
		q := url.Values{"startIndex": {strconv.Itoa(start)}, "count": {strconv.Itoa(c.cfg.PageSize)}}
		page, _, err := c.page(ctx, q)
		if err != nil {
			return err
		}
		n := len(page.Accounts)
		if n == 0 {
			return nil
		}
		first := page.Accounts[0].Key + "\x00" + page.Accounts[0].ID
		if start > 1 && first == prevFirst {
			return fmt.Errorf("webhook: GET %s: the page at startIndex %d repeats the previous one; does the list endpoint support startIndex?", c.listLabel, start)
		}
		prevFirst = first
		for _, a := range page.Accounts {
			if err := fn(a); err != nil {
				return err
			}
		}
		start += n
		if page.total >= 0 {
			if start > page.total {
				return nil
			}
		} else if n < c.cfg.PageSize {
			return nil
		}
	}
}

type readPage struct {
	Accounts []connector.Account
	total    int // -1 when the answer has none
}

// page GETs ListURL with q added to its query. It returns the status of a
// non-2xx answer along with the error.
func (c *Connector) page(ctx context.Context, q url.Values) (readPage, int, error) {
	u := *c.listURL
	all := u.Query()
	for k, v := range q {
		all[k] = v
	}
	u.RawQuery = all.Encode()
	status, data, err := c.call(ctx, http.MethodGet, u.String(), c.listLabel, "", nil)
	if err != nil {
		return readPage{}, 0, err
	}
	if status < 200 || status > 299 {
		return readPage{}, status, c.apiError(http.MethodGet, c.listLabel, "", status, data)
	}
	var wire struct {
		Accounts []struct {
			ID           string                     `json:"id"`
			Key          string                     `json:"key"`
			Name         string                     `json:"name"`
			Attributes   map[string]json.RawMessage `json:"attributes"`
			Entitlements []string                   `json:"entitlements"`
			Disabled     bool                       `json:"disabled"`
			LastActivity string                     `json:"last_activity"`
		} `json:"accounts"`
		Total *int `json:"total"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&wire); err != nil {
		return readPage{}, status, fmt.Errorf("webhook: GET %s: decode the list: %s", c.listLabel, c.redact(err.Error()))
	}
	p := readPage{total: -1}
	if wire.Total != nil {
		p.total = *wire.Total
	}
	for _, w := range wire.Accounts {
		a := connector.Account{ID: w.ID, Key: w.Key, Name: w.Name, Entitlements: w.Entitlements,
			Disabled: w.Disabled, Attributes: map[string][]string{}}
		if w.LastActivity != "" {
			t, err := time.Parse(time.RFC3339Nano, w.LastActivity)
			if err != nil {
				return readPage{}, status, fmt.Errorf("webhook: GET %s: account %q last_activity %q: want an RFC 3339 time such as 2026-04-12T08:30:00Z", c.listLabel, w.Key, w.LastActivity)
			}
			a.LastActivity = t.UTC()
		}
		for name, raw := range w.Attributes {
			vals, err := attrValues(raw)
			if err != nil {
				return readPage{}, status, fmt.Errorf("webhook: GET %s: account %q attribute %q: %v", c.listLabel, w.Key, name, err)
			}
			if len(vals) > 0 {
				a.Attributes[name] = vals
			}
		}
		p.Accounts = append(p.Accounts, a)
	}
	return p, status, nil
}

// attrValues accepts an attribute as a list of values or a single value
// (strings, numbers, booleans); null is no value.
func attrValues(raw json.RawMessage) ([]string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	one := func(x any) (string, bool) {
		switch x := x.(type) {
		case string:
			return x, true
		case json.Number:
			return x.String(), true
		case bool:
			return strconv.FormatBool(x), true
		}
		return "", false
	}
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := one(e)
			if !ok {
				return nil, errors.New("not a list of strings")
			}
			out = append(out, s)
		}
		return out, nil
	}
	if s, ok := one(v); ok {
		return []string{s}, nil
	}
	return nil, errors.New("not a string or a list of strings")
}

// ------------------------------------------------------------ signatures

// Sign returns the X-Tango-Signature of body sent at timestamp (unix
// seconds): "sha256=" and the hex HMAC-SHA256 of timestamp + "." + body.
func Sign(secret, timestamp, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write([]byte(body))
	return SignaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery as a receiver gets it: the X-Tango-Timestamp,
// the raw body and the X-Tango-Signature. The signature is compared in
// constant time; a timestamp more than maxSkew from now (DefaultMaxSkew
// when 0) is refused as a possible replay. Errors are ErrBadSignature or
// ErrStale, wrapped.
func Verify(secret, timestamp, body, signature string, maxSkew time.Duration) error {
	if secret == "" {
		return fmt.Errorf("%w: no secret to verify with", ErrBadSignature)
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not unix seconds", ErrBadSignature, truncate(timestamp, 40))
	}
	now, window := time.Now().Unix(), int64(maxSkew/time.Second)
	if ts < now-window || ts > now+window {
		return fmt.Errorf("%w: timestamp %d is not within %v of now", ErrStale, ts, maxSkew)
	}
	got, ok := strings.CutPrefix(strings.TrimSpace(signature), SignaturePrefix)
	if !ok {
		return fmt.Errorf("%w: want %s<hex>", ErrBadSignature, SignaturePrefix)
	}
	sum, err := hex.DecodeString(got)
	if err != nil || len(sum) != sha256.Size {
		return fmt.Errorf("%w: not a hex SHA-256", ErrBadSignature)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write([]byte(body))
	if !hmac.Equal(sum, m.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// ------------------------------------------------------------ HTTP

// Error is a refusal by the receiver or the list endpoint that is not
// worth retrying (or, inside a connector.TemporaryError, the last 429 or
// 5xx).
type Error struct {
	Method   string
	URL      string // scheme and host only
	Delivery string // the delivery id of a POST
	Status   int
	// Text is the start of the response (its "error", "message" or
	// "detail" when JSON), on one line, with the secret hidden.
	Text string
}

func (e *Error) Error() string {
	msg := "webhook: " + e.Method + " " + e.URL
	if e.Delivery != "" {
		msg += " (delivery " + e.Delivery + ")"
	}
	msg += fmt.Sprintf(": %d %s", e.Status, http.StatusText(e.Status))
	if e.Text != "" {
		msg += ": " + e.Text
	}
	return msg
}

func (c *Connector) apiError(method, label, delivery string, status int, data []byte) *Error {
	text := string(data)
	var body map[string]any
	if json.Unmarshal(data, &body) == nil {
		for _, k := range []string{"error", "message", "detail", "error_description"} {
			if s, ok := body[k].(string); ok && s != "" {
				text = s
				break
			}
		}
	}
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "?")
	}
	// Hide first, then shorten: a cut secret would not be recognised.
	text = strings.Join(strings.Fields(c.redact(text)), " ")
	return &Error{Method: method, URL: label, Delivery: delivery, Status: status, Text: truncate(text, MaxErrorText)}
}

// call makes one request, repeating it while it fails temporarily (see
// httpclient.Do), and returns the final status and body. Deliveries
// (delivery != "") keep their id; each attempt is signed with a fresh
// timestamp.
func (c *Connector) call(ctx context.Context, method, target, label, delivery string, body []byte) (int, []byte, error) {
	what := method + " " + label
	if delivery != "" {
		what += " (delivery " + delivery + ")"
	}
	resp, err := httpclient.Do(ctx, c.client, func() (*http.Request, error) {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, target, rd)
		if err != nil {
			return nil, fmt.Errorf("webhook: %s: bad request", what) // the error would show the URL
		}
		for k, v := range c.cfg.Headers {
			req.Header.Set(k, v)
		}
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(c.cfg.Secret, ts, string(body)))
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "Tango-Webhook/1")
		if delivery != "" {
			req.Header.Set(HeaderDelivery, delivery)
			req.Header.Set("Content-Type", "application/json")
		}
		return req, nil
	}, c.policy)
	if err != nil {
		var e *httpclient.Error
		if !errors.As(err, &e) {
			return 0, nil, err // the request's own
		}
		if !e.Context {
			return 0, nil, c.gaveUp(c.transient(what, e), e.Attempts)
		}
		var prev error
		switch {
		case e.Last != nil:
			prev = c.temporary(method, label, delivery, e.Last)
		case e.LastErr != nil:
			prev = c.transient(what, e.LastErr)
		}
		if prev != nil {
			return 0, nil, fmt.Errorf("webhook: %s: %w (after %v)", what, e.Err, prev)
		}
		return 0, nil, fmt.Errorf("webhook: %s: %w", what, e.Err)
	}
	data := resp.Body
	if len(data) > MaxResponseBytes {
		if resp.Status >= 200 && resp.Status <= 299 && method == http.MethodGet {
			return 0, nil, fmt.Errorf("webhook: %s: response larger than %d bytes", what, MaxResponseBytes)
		}
		data = data[:MaxResponseBytes]
	}
	if httpclient.Retryable(resp.Status) {
		// Retries ran out, or the caller schedules the retry.
		return 0, nil, c.gaveUp(c.temporary(method, label, delivery, resp), resp.Attempts)
	}
	return resp.Status, data, nil
}

// temporary is the TemporaryError of a Retryable response.
func (c *Connector) temporary(method, label, delivery string, resp *httpclient.Response) *connector.TemporaryError {
	data := resp.Body
	if len(data) > MaxResponseBytes {
		data = data[:MaxResponseBytes]
	}
	e := c.apiError(method, label, delivery, resp.Status, data)
	return &connector.TemporaryError{Err: e, RetryAfter: resp.RetryAfter()}
}

// transient is the TemporaryError of a transport or read failure (its
// text already redacted by httpclient.Do).
func (c *Connector) transient(what string, e *httpclient.Error) *connector.TemporaryError {
	if e.Read {
		return &connector.TemporaryError{Err: fmt.Errorf("webhook: %s: read response: %s", what, e.Err)}
	}
	return &connector.TemporaryError{Err: fmt.Errorf("webhook: %s: %s", what, e.Err)}
}

// gaveUp notes the attempts in tmp when the retries ran out (not when the
// receiver asked for a longer wait than MaxRetryWait).
func (c *Connector) gaveUp(tmp *connector.TemporaryError, attempts int) *connector.TemporaryError {
	if attempts > c.cfg.MaxRetries && attempts > 1 {
		tmp.Err = fmt.Errorf("%w (%d attempts)", tmp.Err, attempts)
	}
	return tmp
}

// redact hides the secret and credential-like header values.
func (c *Connector) redact(s string) string {
	return httpclient.NewRedactor(c.hidden...).String(s)
}

// truncate cuts s to n runes, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

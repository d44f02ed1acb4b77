// Package scim is a connector.Connector for apps that speak SCIM 2.0
// (RFC 7643, RFC 7644) over HTTP with a bearer token.
//
// Accounts are SCIM Users: Account.Key is the User's externalId (or its
// userName, see Config.KeyAttribute), Account.Name its userName, and
// Account.Attributes hold SCIM attributes by name: "displayName",
// "name.givenName" (a sub-attribute), "emails" (a multi-valued attribute:
// its values), "active", and extension attributes written with their schema
// URN, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber".
// Entitlements are SCIM Groups, named by their displayName; Grant creates a
// missing group.
//
// Rate limits (429, with Retry-After), server errors (5xx) and network
// errors are retried with backoff, then reported as
// connector.TemporaryError. The token never appears in errors.
//
// SCIM 2.0 has no way to end a User's sessions; many identity providers
// offer a proprietary endpoint for it. With Config.RevokeSessionsPath the
// connector is a connector.SessionRevoker that POSTs to that endpoint.
package scim

import (
	"bytes"
	"context"
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

	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/httpclient"
)

// Schema and message URNs (RFC 7643, RFC 7644).
const (
	UserSchema           = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseUserSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	PatchOpMessage       = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	ListResponseMessage  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	ErrorMessage         = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// Defaults for Config fields left zero.
const (
	DefaultPageSize     = 100
	DefaultMaxRetries   = 3
	DefaultTimeout      = 30 * time.Second
	DefaultRetryBase    = 500 * time.Millisecond
	DefaultMaxRetryWait = 30 * time.Second
	// MaxBodyBytes bounds request bodies and responses.
	MaxBodyBytes = 10 << 20
)

// Config configures a SCIM connector.
type Config struct {
	// BaseURL is the SCIM service root, e.g. https://app.example.com/scim/v2
	// (the /Users and /Groups endpoints are below it). Required.
	BaseURL string
	// Token is the bearer token. Required. It is never logged nor put in
	// errors.
	Token string
	// HTTPClient makes the requests; default a client with Timeout.
	HTTPClient *http.Client
	// Timeout bounds each request when HTTPClient is nil; default 30 s.
	Timeout time.Duration
	// PageSize is the count asked for when listing; default 100. Servers
	// may return smaller pages.
	PageSize int
	// KeyAttribute is the User attribute holding Account.Key: "externalId"
	// (default) or "userName" (then Account.Name is the userName too).
	KeyAttribute string
	// Attributes renames account attributes to SCIM attribute paths
	// (Tango name -> SCIM name, e.g. "mail" -> "emails"); attributes not
	// named here are SCIM names already. Get and List report attributes
	// under the Tango names.
	Attributes map[string]string
	// MaxRetries is how many times a request that failed temporarily (429,
	// 5xx, network) is repeated; default 3, negative for none.
	MaxRetries int
	// RetryBase is the wait before the first retry, doubled for each next
	// one (with jitter); default 500 ms. A Retry-After from the server
	// replaces it.
	RetryBase time.Duration
	// MaxRetryWait is the longest the connector waits before a retry; when
	// the server asks for more, the TemporaryError is returned at once
	// (with RetryAfter) for the caller to schedule. Default 30 s.
	MaxRetryWait time.Duration
	// RequestsPerSecond limits the request rate (every attempt counts);
	// 0 means no limit. Burst is the bucket size, default 1.
	RequestsPerSecond float64
	Burst             int
	// RevokeSessionsPath, optional, is the app's own endpoint that ends a
	// User's sessions and tokens: a path below BaseURL holding "{id}",
	// replaced by the User's SCIM id, e.g. "/Users/{id}/revokeSessions".
	// It is called with POST, no body and the same bearer token; any 2xx
	// is success. Empty: the app offers no revocation (RevokesSessions is
	// false) and sessions end when the account is disabled, if at all.
	RevokeSessionsPath string
	// LastLoginAttribute, optional, is the User attribute path holding when
	// the person last signed in (an RFC 3339 dateTime), such as
	// "urn:ietf:params:scim:schemas:extension:acme:2.0:User:lastLogin"
	// or "lastLogin": read into Account.LastActivity. SCIM 2.0 defines
	// none (meta.lastModified is when the resource changed, not a
	// sign-in, and is refused). Empty: not read.
	LastLoginAttribute string
}

// Connector is a SCIM 2.0 client. It is safe for concurrent use.
type Connector struct {
	cfg      Config
	base     string // BaseURL without a trailing slash
	client   *http.Client
	ownHTTP  bool
	policy   httpclient.Policy // retries, rate limit, redaction
	toSCIM   map[string]string // Tango attribute name -> SCIM path
	fromSCIM map[string]string // lower-cased SCIM path -> Tango name
	// lastLogin is LastLoginAttribute parsed (nil: not read); lastLoginName
	// the name it would be reported under among the attributes.
	lastLogin     *attrPath
	lastLoginName string
}

var (
	_ connector.Connector      = (*Connector)(nil)
	_ connector.SessionRevoker = (*Connector)(nil)
)

// FromConfig checks cfg and returns a connector; it makes no request.
func FromConfig(cfg Config) (*Connector, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("scim: BaseURL %q is not an http(s) URL", cfg.BaseURL)
	}
	if u.User != nil {
		return nil, errors.New("scim: BaseURL must not hold credentials; use Token")
	}
	if cfg.Token == "" {
		return nil, errors.New("scim: Token is required")
	}
	switch cfg.KeyAttribute {
	case "":
		cfg.KeyAttribute = "externalId"
	case "externalId", "userName":
	default:
		return nil, fmt.Errorf("scim: KeyAttribute %q: want externalId or userName", cfg.KeyAttribute)
	}
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
	if cfg.RequestsPerSecond < 0 {
		return nil, errors.New("scim: RequestsPerSecond must not be negative")
	}
	if p := cfg.RevokeSessionsPath; p != "" {
		if !strings.HasPrefix(p, "/") || strings.Count(p, "{id}") != 1 || strings.ContainsAny(p, "?# \t\r\n") || strings.Contains(p, "..") {
			return nil, fmt.Errorf("scim: RevokeSessionsPath %q: want a path below BaseURL starting with / and holding {id} once, e.g. /Users/{id}/revokeSessions", p)
		}
	}
	var lastLogin *attrPath
	if l := strings.TrimSpace(cfg.LastLoginAttribute); l != "" {
		p, err := parsePath(l)
		if err != nil {
			return nil, fmt.Errorf("scim: LastLoginAttribute: %v", err)
		}
		if p.urn == "" && strings.EqualFold(p.attr, "meta") && !strings.EqualFold(p.sub, "lastLogin") {
			return nil, fmt.Errorf("scim: LastLoginAttribute %q: meta.%s is when the resource was made or changed, not when the person signed in; name the app's own last-login attribute", l, p.sub)
		}
		lastLogin = &p
	}
	c := &Connector{
		lastLogin: lastLogin,
		cfg:       cfg,
		base:      strings.TrimRight(cfg.BaseURL, "/"),
		client:    cfg.HTTPClient,
		toSCIM:    map[string]string{},
		fromSCIM:  map[string]string{},
	}
	if lastLogin != nil {
		c.lastLoginName = lastLogin.String()
	}
	if c.client == nil {
		c.client = &http.Client{Timeout: cfg.Timeout}
		c.ownHTTP = true
	}
	c.policy = httpclient.Policy{
		MaxRetries: cfg.MaxRetries,
		MaxWait:    cfg.MaxRetryWait,
		Base:       cfg.RetryBase,
		Ceiling:    cfg.MaxRetryWait,
		MaxBody:    MaxBodyBytes,
		Limiter:    httpclient.NewLimiter(cfg.RequestsPerSecond, cfg.Burst),
		Redactor:   httpclient.NewRedactor(cfg.Token),
	}
	for name, path := range cfg.Attributes {
		if name == "" || path == "" {
			return nil, fmt.Errorf("scim: Attributes: empty name in %q -> %q", name, path)
		}
		if _, err := parsePath(path); err != nil {
			return nil, fmt.Errorf("scim: Attributes[%q]: %v", name, err)
		}
		if other, dup := c.fromSCIM[strings.ToLower(path)]; dup {
			return nil, fmt.Errorf("scim: Attributes: %q and %q both map to %q", other, name, path)
		}
		c.toSCIM[name] = path
		c.fromSCIM[strings.ToLower(path)] = name
	}
	return c, nil
}

// Close releases idle connections.
func (c *Connector) Close() error {
	if c.ownHTTP {
		c.client.CloseIdleConnections()
	}
	return nil
}

// ------------------------------------------------------------ accounts

// Create creates the User, or updates the one with the same key. When the
// server refuses the creation with 409 (the userName is taken) and the
// account holding the userName has no key or this key, that account is
// taken over (its key set) and updated.
func (c *Connector) Create(ctx context.Context, a connector.Account) (connector.Account, error) {
	got, err := c.create(ctx, a)
	return got, c.clean(err)
}

func (c *Connector) create(ctx context.Context, a connector.Account) (connector.Account, error) {
	if a.Key == "" {
		return a, errors.New("scim: Create: account has no key")
	}
	res, err := c.findUser(ctx, c.cfg.KeyAttribute, a.Key)
	switch {
	case err == nil:
		a.ID = str(res["id"])
		if err := c.patchUser(ctx, a.ID, a, false); err != nil {
			return a, err
		}
		return a, nil
	case !errors.Is(err, connector.ErrNotFound):
		return a, err
	}
	body, err := c.userResource(a)
	if err != nil {
		return a, err
	}
	var created map[string]any
	err = c.call(ctx, http.MethodPost, "/Users", nil, body, &created)
	var apiErr *Error
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusConflict {
		return c.adopt(ctx, a, apiErr)
	}
	if err != nil {
		return a, err
	}
	a.ID = str(created["id"])
	if a.ID == "" {
		return a, fmt.Errorf("scim: POST %s/Users: response has no id", c.base)
	}
	return a, nil
}

// adopt handles a 409 on Create: the userName exists without our key.
func (c *Connector) adopt(ctx context.Context, a connector.Account, conflict *Error) (connector.Account, error) {
	name := c.userName(a)
	res, err := c.findUser(ctx, "userName", name)
	if errors.Is(err, connector.ErrNotFound) {
		return a, conflict // a conflict on something else
	}
	if err != nil {
		return a, err
	}
	if c.cfg.KeyAttribute == "externalId" {
		if have := str(res["externalId"]); have != "" && have != a.Key {
			return a, fmt.Errorf("scim: create %s: userName %q belongs to the account with externalId %q: %w", a.Key, name, have, conflict)
		}
	}
	a.ID = str(res["id"])
	if err := c.patchUser(ctx, a.ID, a, true); err != nil {
		return a, err
	}
	return a, nil
}

// Update replaces the managed attributes (and the userName) of the User.
func (c *Connector) Update(ctx context.Context, a connector.Account) error {
	return c.withUser(ctx, a, func(id string) error { return c.patchUser(ctx, id, a, false) })
}

// Disable sets active to false.
func (c *Connector) Disable(ctx context.Context, a connector.Account) error {
	return c.setActive(ctx, a, false)
}

// Enable sets active to true.
func (c *Connector) Enable(ctx context.Context, a connector.Account) error {
	return c.setActive(ctx, a, true)
}

func (c *Connector) setActive(ctx context.Context, a connector.Account, active bool) error {
	return c.withUser(ctx, a, func(id string) error {
		return c.patch(ctx, "/Users/"+url.PathEscape(id), []patchOp{{Op: "replace", Path: "active", Value: active}})
	})
}

// Grant adds the User to the group whose displayName is entitlement,
// creating the group if there is none.
func (c *Connector) Grant(ctx context.Context, a connector.Account, entitlement string) error {
	return c.withUser(ctx, a, func(id string) error {
		gid, err := c.findGroup(ctx, entitlement)
		if errors.Is(err, connector.ErrNotFound) {
			body := map[string]any{
				"schemas":     []string{GroupSchema},
				"displayName": entitlement,
				"members":     []map[string]string{{"value": id}},
			}
			err = c.call(ctx, http.MethodPost, "/Groups", nil, body, nil)
			var apiErr *Error
			if !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict {
				return err
			}
			// Created by someone else meanwhile: add to it.
			gid, err = c.findGroup(ctx, entitlement)
		}
		if err != nil {
			return err
		}
		return c.patch(ctx, "/Groups/"+url.PathEscape(gid), []patchOp{{
			Op: "add", Path: "members", Value: []map[string]string{{"value": id}},
		}})
	})
}

// Revoke removes the User from the group whose displayName is entitlement.
// A missing group or membership is not an error.
func (c *Connector) Revoke(ctx context.Context, a connector.Account, entitlement string) error {
	return c.withUser(ctx, a, func(id string) error {
		gid, err := c.findGroup(ctx, entitlement)
		if errors.Is(err, connector.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		err = c.patch(ctx, "/Groups/"+url.PathEscape(gid), []patchOp{{
			Op: "remove", Path: "members[value eq " + quote(id) + "]",
		}})
		var apiErr *Error
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest && apiErr.ScimType == "noTarget" {
			return nil // not a member
		}
		return err
	})
}

// RevokesSessions reports whether the app has a session-revocation
// endpoint (Config.RevokeSessionsPath).
func (c *Connector) RevokesSessions() bool { return c.cfg.RevokeSessionsPath != "" }

// RevokeSessions POSTs to the app's session-revocation endpoint for the
// User (found by key when a.ID is empty or stale). A User the app does not
// know is connector.ErrNotFound. Without RevokeSessionsPath it is an error.
func (c *Connector) RevokeSessions(ctx context.Context, a connector.Account) error {
	if !c.RevokesSessions() {
		return errors.New("scim: the app has no session-revocation endpoint (RevokeSessionsPath)")
	}
	return c.withUser(ctx, a, func(id string) error {
		return c.call(ctx, http.MethodPost, strings.Replace(c.cfg.RevokeSessionsPath, "{id}", url.PathEscape(id), 1), nil, nil, nil)
	})
}

// Get reads the User whose key is key, with its groups.
func (c *Connector) Get(ctx context.Context, key string) (connector.Account, error) {
	a, err := c.get(ctx, key)
	return a, c.clean(err)
}

func (c *Connector) get(ctx context.Context, key string) (connector.Account, error) {
	res, err := c.findUser(ctx, c.cfg.KeyAttribute, key)
	if err != nil {
		return connector.Account{}, err
	}
	a := c.account(res)
	if ents, ok := groupsAttribute(res); ok {
		a.Entitlements = ents
		return a, nil
	}
	// The server does not report the groups on the User: ask the groups.
	q := url.Values{"filter": {"members.value eq " + quote(a.ID)}, "attributes": {"displayName"}}
	err = c.pages(ctx, "/Groups", q, func(g map[string]any) error {
		if name := str(g["displayName"]); name != "" {
			a.Entitlements = append(a.Entitlements, name)
		}
		return nil
	})
	if err != nil {
		return connector.Account{}, err
	}
	return a, nil
}

// List pages through the Groups once, then through the Users, calling fn
// for each User with the groups it is a member of.
func (c *Connector) List(ctx context.Context, fn func(connector.Account) error) error {
	groupsOf := map[string][]string{}
	err := c.pages(ctx, "/Groups", url.Values{"attributes": {"displayName,members"}}, func(g map[string]any) error {
		name := str(g["displayName"])
		members, _ := g["members"].([]any)
		for _, m := range members {
			if mm, ok := m.(map[string]any); ok && name != "" {
				if id := str(mm["value"]); id != "" {
					groupsOf[id] = append(groupsOf[id], name)
				}
			}
		}
		return nil
	})
	if err != nil {
		return c.clean(err)
	}
	errStop := errors.New("stop")
	var fnErr error
	err = c.pages(ctx, "/Users", nil, func(u map[string]any) error {
		a := c.account(u)
		a.Entitlements = groupsOf[a.ID]
		if err := fn(a); err != nil {
			fnErr = err
			return errStop
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	return c.clean(err)
}

// ------------------------------------------------------------ helpers

// withUser calls f with the User's id: a.ID, or when it is empty or stale
// (404) the id found by key.
func (c *Connector) withUser(ctx context.Context, a connector.Account, f func(id string) error) error {
	return c.clean(c.withUser1(ctx, a, f))
}

func (c *Connector) withUser1(ctx context.Context, a connector.Account, f func(id string) error) error {
	if a.ID != "" {
		err := f(a.ID)
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound || a.Key == "" {
			return err
		}
	}
	if a.Key == "" {
		return errors.New("scim: account has neither ID nor key")
	}
	res, err := c.findUser(ctx, c.cfg.KeyAttribute, a.Key)
	if err != nil {
		return err
	}
	return f(str(res["id"]))
}

// findUser returns the one User whose attr equals value, or ErrNotFound.
func (c *Connector) findUser(ctx context.Context, attr, value string) (map[string]any, error) {
	var list listResponse
	q := url.Values{"filter": {attr + " eq " + quote(value)}, "startIndex": {"1"}, "count": {"2"}}
	if err := c.call(ctx, http.MethodGet, "/Users", q, nil, &list); err != nil {
		return nil, err
	}
	var found []map[string]any
	for _, r := range list.Resources {
		// Servers compare userName without case; keys are compared exactly.
		if got := str(r[attr]); got == value || (attr == "userName" && strings.EqualFold(got, value)) {
			found = append(found, r)
		}
	}
	switch {
	case len(found) == 0:
		return nil, fmt.Errorf("scim: no User with %s %q at %s: %w", attr, value, c.base, connector.ErrNotFound)
	case len(found) > 1 || list.TotalResults > 1:
		return nil, fmt.Errorf("scim: %d Users with %s %q at %s", max(len(found), list.TotalResults), attr, value, c.base)
	}
	if str(found[0]["id"]) == "" {
		return nil, fmt.Errorf("scim: User with %s %q at %s has no id", attr, value, c.base)
	}
	return found[0], nil
}

// findGroup returns the id of the group named displayName, or ErrNotFound.
func (c *Connector) findGroup(ctx context.Context, displayName string) (string, error) {
	var list listResponse
	q := url.Values{"filter": {"displayName eq " + quote(displayName)}, "attributes": {"displayName"}, "startIndex": {"1"}, "count": {"2"}}
	if err := c.call(ctx, http.MethodGet, "/Groups", q, nil, &list); err != nil {
		return "", err
	}
	for _, r := range list.Resources {
		if strings.EqualFold(str(r["displayName"]), displayName) && str(r["id"]) != "" {
			return str(r["id"]), nil
		}
	}
	return "", fmt.Errorf("scim: no Group %q at %s: %w", displayName, c.base, connector.ErrNotFound)
}

// pages calls fn for every resource of a list endpoint, page by page.
func (c *Connector) pages(ctx context.Context, path string, q url.Values, fn func(map[string]any) error) error {
	if q == nil {
		q = url.Values{}
	}
	start := 1
	for {
		q.Set("startIndex", strconv.Itoa(start))
		q.Set("count", strconv.Itoa(c.cfg.PageSize))
		var list listResponse
		if err := c.call(ctx, http.MethodGet, path, q, nil, &list); err != nil {
			return err
		}
		for _, r := range list.Resources {
			if err := fn(r); err != nil {
				return err
			}
		}
		n := len(list.Resources)
		if n == 0 || start+n-1 >= list.TotalResults {
			return nil
		}
		start += n
	}
}

func (c *Connector) userName(a connector.Account) string {
	if c.cfg.KeyAttribute == "userName" {
		return a.Key
	}
	return a.Name
}

// userResource is the User a POST creates.
func (c *Connector) userResource(a connector.Account) (map[string]any, error) {
	res := map[string]any{"userName": c.userName(a), "active": true}
	if c.cfg.KeyAttribute == "externalId" {
		res["externalId"] = a.Key
	}
	if str(res["userName"]) == "" {
		return nil, fmt.Errorf("scim: account %s has no name (userName)", a.Key)
	}
	schemas := []string{UserSchema}
	for _, name := range sortedKeys(a.Attributes) {
		p, err := c.path(name)
		if err != nil {
			return nil, err
		}
		if err := c.checkManaged(a, p, a.Attributes[name]); err != nil {
			return nil, err
		}
		v := p.value(a.Attributes[name])
		if v == nil {
			continue
		}
		target := res
		if p.urn != "" {
			if !slices.Contains(schemas, p.urn) {
				schemas = append(schemas, p.urn)
			}
			target = subMap(res, p.urn)
		}
		if p.sub != "" {
			target = subMap(target, p.attr)
			target[p.sub] = v
		} else {
			target[p.attr] = v
		}
	}
	res["schemas"] = schemas
	return res, nil
}

// patchUser replaces the userName and managed attributes (and with withKey
// the key attribute) of User id.
func (c *Connector) patchUser(ctx context.Context, id string, a connector.Account, withKey bool) error {
	var ops []patchOp
	if name := c.userName(a); name != "" {
		ops = append(ops, patchOp{Op: "replace", Path: "userName", Value: name})
	}
	if withKey && c.cfg.KeyAttribute == "externalId" {
		ops = append(ops, patchOp{Op: "replace", Path: "externalId", Value: a.Key})
	}
	for _, name := range sortedKeys(a.Attributes) {
		p, err := c.path(name)
		if err != nil {
			return err
		}
		if err := c.checkManaged(a, p, a.Attributes[name]); err != nil {
			return err
		}
		if v := p.value(a.Attributes[name]); v != nil {
			ops = append(ops, patchOp{Op: "replace", Path: p.String(), Value: v})
		} else {
			ops = append(ops, patchOp{Op: "remove", Path: p.String()})
		}
	}
	if len(ops) == 0 {
		return nil
	}
	return c.patch(ctx, "/Users/"+url.PathEscape(id), ops)
}

// checkManaged refuses attributes that contradict Key or Name.
func (c *Connector) checkManaged(a connector.Account, p attrPath, vals []string) error {
	if p.urn != "" || p.sub != "" {
		return nil
	}
	var want string
	switch {
	case strings.EqualFold(p.attr, c.cfg.KeyAttribute):
		want = a.Key
	case strings.EqualFold(p.attr, "userName"):
		want = a.Name
	default:
		return nil
	}
	if len(vals) != 1 || vals[0] != want {
		return fmt.Errorf("scim: account %s: attribute %s = %q contradicts the account's key or name %q", a.Key, p.attr, vals, want)
	}
	return nil
}

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

func (c *Connector) patch(ctx context.Context, path string, ops []patchOp) error {
	body := map[string]any{"schemas": []string{PatchOpMessage}, "Operations": ops}
	return c.call(ctx, http.MethodPatch, path, nil, body, nil)
}

// account converts a User resource.
func (c *Connector) account(res map[string]any) connector.Account {
	a := connector.Account{
		ID:         str(res["id"]),
		Name:       str(res["userName"]),
		Attributes: map[string][]string{},
	}
	a.Key = str(res[c.cfg.KeyAttribute])
	if active, ok := res["active"].(bool); ok && !active {
		a.Disabled = true
	}
	add := func(name string, vals []string) {
		if len(vals) == 0 {
			return
		}
		if tango, ok := c.fromSCIM[strings.ToLower(name)]; ok {
			name = tango
		}
		a.Attributes[name] = vals
	}
	for k, v := range res {
		switch k {
		case "schemas", "id", "meta", "groups":
			continue
		}
		if strings.HasPrefix(strings.ToLower(k), "urn:") {
			if ext, ok := v.(map[string]any); ok {
				for ek, ev := range ext {
					flatten(k+":"+ek, ev, add)
				}
			}
			continue
		}
		flatten(k, v, add)
	}
	if c.lastLogin != nil {
		a.LastActivity = lastLogin(res, *c.lastLogin)
		for name := range a.Attributes {
			if strings.EqualFold(name, c.lastLoginName) {
				delete(a.Attributes, name) // the app keeps it: not a managed attribute
			}
		}
	}
	return a
}

// lastLogin reads the dateTime at path p of a User resource; zero when it
// is absent or not an RFC 3339 time.
func lastLogin(res map[string]any, p attrPath) time.Time {
	v := any(res)
	if p.urn != "" {
		v = field(v, p.urn)
	}
	v = field(v, p.attr)
	if p.sub != "" {
		v = field(v, p.sub)
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// field is m's member named k, matched case-insensitively as SCIM names
// are; nil when m is not an object or has none.
func field(m any, k string) any {
	obj, ok := m.(map[string]any)
	if !ok {
		return nil
	}
	if v, ok := obj[k]; ok {
		return v
	}
	for name, v := range obj {
		if strings.EqualFold(name, k) {
			return v
		}
	}
	return nil
}

// flatten reports a resource attribute as Tango attributes: simple values
// under name, sub-attributes under name.sub, multi-valued attributes as
// their values (the "value" sub-attribute of complex ones).
func flatten(name string, v any, add func(string, []string)) {
	switch v := v.(type) {
	case map[string]any:
		for sk, sv := range v {
			if s, ok := scalar(sv); ok {
				add(name+"."+sk, []string{s})
			}
		}
		if s, ok := scalar(v["value"]); ok {
			add(name, []string{s})
		}
	case []any:
		var vals []string
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				if s, ok := scalar(m["value"]); ok {
					vals = append(vals, s)
				}
			} else if s, ok := scalar(e); ok {
				vals = append(vals, s)
			}
		}
		add(name, vals)
	default:
		if s, ok := scalar(v); ok {
			add(name, []string{s})
		}
	}
}

// groupsAttribute returns the displayNames in a User's groups attribute,
// and whether the server reported them all.
func groupsAttribute(res map[string]any) ([]string, bool) {
	gs, ok := res["groups"].([]any)
	if !ok {
		return nil, false
	}
	var names []string
	for _, g := range gs {
		m, _ := g.(map[string]any)
		name := str(m["display"])
		if name == "" {
			return nil, false
		}
		names = append(names, name)
	}
	return names, true
}

func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case json.Number:
		return v.String(), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// quote makes a SCIM filter string literal (JSON string syntax).
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func subMap(m map[string]any, key string) map[string]any {
	if sub, ok := m[key].(map[string]any); ok {
		return sub
	}
	sub := map[string]any{}
	m[key] = sub
	return sub
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ------------------------------------------------------------ attributes

// attrPath is a SCIM attribute path: [urn:]attr[.sub].
type attrPath struct {
	urn, attr, sub string
}

// multiValued are the multi-valued complex attributes of the core User
// schema whose values are written as {"value": v}.
var multiValued = map[string]bool{
	"emails": true, "phonenumbers": true, "ims": true, "photos": true,
	"entitlements": true, "roles": true, "x509certificates": true,
}

func parsePath(s string) (attrPath, error) {
	var p attrPath
	rest := s
	if strings.HasPrefix(strings.ToLower(s), "urn:") {
		i := strings.LastIndex(s, ":")
		p.urn, rest = s[:i], s[i+1:]
	}
	p.attr, p.sub, _ = strings.Cut(rest, ".")
	if p.attr == "" || strings.ContainsAny(rest, " []\"") || strings.Contains(p.sub, ".") {
		return p, fmt.Errorf("bad SCIM attribute path %q", s)
	}
	if strings.EqualFold(p.urn, UserSchema) {
		p.urn = "" // core attributes are written without their URN
	}
	if strings.EqualFold(p.urn, EnterpriseUserSchema) && p.attr == "manager" && p.sub == "" {
		p.sub = "value" // the manager's id
	}
	return p, nil
}

func (c *Connector) path(name string) (attrPath, error) {
	if mapped, ok := c.toSCIM[name]; ok {
		name = mapped
	}
	return parsePath(name)
}

func (p attrPath) String() string {
	s := p.attr
	if p.sub != "" {
		s += "." + p.sub
	}
	if p.urn != "" {
		s = p.urn + ":" + s
	}
	return s
}

// value is the JSON value to write for vals; nil removes the attribute.
func (p attrPath) value(vals []string) any {
	if len(vals) == 0 {
		return nil
	}
	switch {
	case p.urn == "" && p.sub == "" && multiValued[strings.ToLower(p.attr)]:
		out := make([]map[string]any, len(vals))
		for i, v := range vals {
			out[i] = map[string]any{"value": v}
			if i == 0 {
				out[i]["primary"] = true
			}
		}
		return out
	case p.urn == "" && p.sub == "" && strings.EqualFold(p.attr, "active"):
		b, err := strconv.ParseBool(vals[0])
		if err != nil {
			return vals[0] // let the server refuse it
		}
		return b
	case len(vals) > 1:
		return vals
	}
	return vals[0]
}

// ------------------------------------------------------------ HTTP

type listResponse struct {
	TotalResults int              `json:"totalResults"`
	StartIndex   int              `json:"startIndex"`
	ItemsPerPage int              `json:"itemsPerPage"`
	Resources    []map[string]any `json:"Resources"`
}

// Error is a SCIM error response that is not worth retrying.
type Error struct {
	Method string
	URL    string // without the query
	Status int
	// ScimType and Detail are from the SCIM error body, if any.
	ScimType string
	Detail   string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("scim: %s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.ScimType != "" {
		msg += " (" + e.ScimType + ")"
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// call makes one request (with retries, see httpclient.Do) and decodes a
// 2xx response into out (when out is non-nil and the response has a body).
func (c *Connector) call(ctx context.Context, method, path string, q url.Values, body, out any) error {
	target := c.base + path
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("scim: %s %s: %v", method, target, err)
		}
		if len(payload) > MaxBodyBytes {
			return fmt.Errorf("scim: %s %s: request body of %d bytes exceeds %d", method, target, len(payload), MaxBodyBytes)
		}
	}
	full := target
	if len(q) > 0 {
		full += "?" + q.Encode()
	}
	resp, err := httpclient.Do(ctx, c.client, func() (*http.Request, error) {
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, full, rd)
		if err != nil {
			return nil, fmt.Errorf("scim: %s %s: %v", method, target, c.redact(err.Error()))
		}
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
		req.Header.Set("Accept", "application/scim+json, application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		return req, nil
	}, c.policy)
	if err != nil {
		return c.failed(method, target, err)
	}
	if len(resp.Body) > MaxBodyBytes {
		return fmt.Errorf("scim: %s %s: response larger than %d bytes", method, target, MaxBodyBytes)
	}
	if httpclient.Retryable(resp.Status) {
		return c.temporary(method, target, resp) // retries ran out, or the caller schedules the retry
	}
	if resp.Status < 200 || resp.Status > 299 {
		return c.apiError(method, target, resp.Status, resp.Body)
	}
	if out == nil || len(bytes.TrimSpace(resp.Body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(resp.Body))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("scim: %s %s: decode response: %v", method, target, err)
	}
	return nil
}

// temporary is the TemporaryError of a Retryable response.
func (c *Connector) temporary(method, target string, resp *httpclient.Response) *connector.TemporaryError {
	return &connector.TemporaryError{Err: c.apiError(method, target, resp.Status, resp.Body), RetryAfter: resp.RetryAfter()}
}

// failed turns an error of httpclient.Do into the connector's: a
// TemporaryError for a transport or read failure, the context's error
// (after the failure it was waiting to retry, if any), or the request's
// own error as it is.
func (c *Connector) failed(method, target string, err error) error {
	var e *httpclient.Error
	if !errors.As(err, &e) {
		return err
	}
	if !e.Context {
		return c.transient(method, target, e)
	}
	var prev error
	switch {
	case e.Last != nil:
		prev = c.temporary(method, target, e.Last)
	case e.LastErr != nil:
		prev = c.transient(method, target, e.LastErr)
	}
	if prev != nil {
		return fmt.Errorf("scim: %s %s: %w (after %v)", method, target, e.Err, prev)
	}
	return fmt.Errorf("scim: %s %s: %w", method, target, e.Err)
}

// transient is the TemporaryError of a transport or read failure (its
// text already redacted by httpclient.Do).
func (c *Connector) transient(method, target string, e *httpclient.Error) *connector.TemporaryError {
	if e.Read {
		return &connector.TemporaryError{Err: fmt.Errorf("scim: %s %s: read response: %s", method, target, e.Err)}
	}
	return &connector.TemporaryError{Err: fmt.Errorf("scim: %s %s: %s", method, target, e.Err)}
}

func (c *Connector) apiError(method, target string, status int, data []byte) *Error {
	e := &Error{Method: method, URL: target, Status: status}
	var body struct {
		ScimType string `json:"scimType"`
		Detail   string `json:"detail"`
	}
	if json.Unmarshal(data, &body) == nil {
		e.ScimType = c.redact(body.ScimType)
		e.Detail = c.redact(body.Detail)
	}
	if len(e.Detail) > 500 {
		e.Detail = e.Detail[:500] + "..."
	}
	return e
}

// clean hides the token in an error's text (for example a server error
// echoing a userName that happens to equal it), keeping what it wraps.
func (c *Connector) clean(err error) error {
	if err == nil || c.cfg.Token == "" || !strings.Contains(err.Error(), c.cfg.Token) {
		return err
	}
	return httpclient.NewRedactor(c.cfg.Token).Error(err)
}

// redact hides the token in text that came from elsewhere.
func (c *Connector) redact(s string) string {
	return httpclient.NewRedactor(c.cfg.Token).String(s)
}

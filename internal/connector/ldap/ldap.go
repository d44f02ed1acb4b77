// Package ldap is the connector for LDAP directories (OpenLDAP, 389-DS,
// Active Directory): accounts are entries below a base DN, entitlements are
// groups (groupOfNames) whose member attribute holds the account DNs.
//
// It is not a connector.SessionRevoker: a directory holds no sessions or
// tokens. Sessions live in the apps that bind against it and end there
// when the account is disabled (an app's Kerberos tickets, for Active
// Directory, expire with their lifetime). The conformance suite checks
// that the connector does not claim a revocation.
package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/tango-iga/tango/internal/connector"
)

// Disable says how the directory marks an account disabled. Set exactly one
// of its fields.
type Disable struct {
	// Replace sets these attributes to disable (for example
	// employeeType=[disabled]); Enable removes them. An account is reported
	// disabled when it holds every one of these values.
	Replace map[string][]string
	// MoveTo is the DN of the OU disabled accounts are moved to (ModifyDN);
	// Enable moves them back below BaseDN (or to DNFunc's parent). Group
	// memberships found below GroupBaseDN follow the move.
	MoveTo string
	// ActiveDirectory sets bit 0x2 (ACCOUNTDISABLE) of userAccountControl;
	// Enable clears it.
	ActiveDirectory bool
}

// Config describes one LDAP app.
type Config struct {
	// URL is ldap://host:port or ldaps://host:port.
	URL string
	// BindDN and Password are the service account's credentials.
	BindDN   string
	Password string
	// BaseDN is where accounts are created ("uid={Name},BaseDN") and
	// searched (whole subtree).
	BaseDN string
	// StartTLS upgrades an ldap:// connection before binding.
	StartTLS bool
	// InsecureSkipVerify disables certificate checks (tests only).
	InsecureSkipVerify bool
	// RootCAs verifies the server certificate; nil means the system pool.
	RootCAs *x509.CertPool
	// ServerName overrides the name checked in the certificate (default:
	// the URL's host).
	ServerName string

	// ObjectClasses of created accounts; default top, person,
	// organizationalPerson, inetOrgPerson.
	ObjectClasses []string
	// NameAttribute holds Account.Name and names the RDN; default uid.
	NameAttribute string
	// KeyAttribute holds Account.Key, the correlation value (for example
	// employeeNumber). Required.
	KeyAttribute string
	// DNFunc computes a new account's DN. When nil the DN is
	// NameAttribute={Name},BaseDN. A non-empty Account.ID is used as the DN
	// as given. Either way Create refuses a DN that is not exactly one
	// single-valued RDN below BaseDN.
	DNFunc func(connector.Account) string
	// AccountFilter selects account entries; default (objectClass=person).
	AccountFilter string

	// GroupBaseDN is searched for group memberships; default BaseDN.
	GroupBaseDN string
	// GroupMemberAttribute holds the member DNs; default member.
	GroupMemberAttribute string
	// GroupObjectClasses of groups created by Grant; default top, groupOfNames.
	GroupObjectClasses []string

	// PageSize of paged searches; default 500.
	PageSize int
	// LastActivityAttribute holds when the account last signed in
	// (Account.LastActivity): a generalized time (OpenLDAP's authTimestamp,
	// kept by the lastbind overlay or ppolicy) or an Active Directory
	// FILETIME (lastLogonTimestamp, pwdLastSet). Empty: not read.
	LastActivityAttribute string
	// Disable is how accounts are disabled; required.
	Disable Disable
	// Timeout of one request; default 30 s.
	Timeout time.Duration
	// LoadConnections is the number of connections Load uses; default 4.
	LoadConnections int
}

// Connector is an LDAP connector. It is safe for concurrent use.
type Connector struct {
	cfg        Config
	base       *goldap.DN
	moveTo     *goldap.DN
	searchBase []string // BaseDN, and MoveTo when it is not below BaseDN

	mu   sync.Mutex
	conn *goldap.Conn
}

var _ connector.Connector = (*Connector)(nil)

// uacDisabled is Active Directory's ACCOUNTDISABLE flag; uacNormal is
// NORMAL_ACCOUNT, used when an account has no userAccountControl yet.
const (
	uacDisabled = 0x2
	uacNormal   = 0x200
	uacAttr     = "userAccountControl"
)

// FromConfig checks the configuration and returns a connector. It does not connect:
// the first operation does.
func FromConfig(cfg Config) (*Connector, error) {
	if cfg.URL == "" || cfg.BaseDN == "" {
		return nil, errors.New("ldap: URL and BaseDN are required")
	}
	if cfg.KeyAttribute == "" {
		return nil, fmt.Errorf("ldap %s: KeyAttribute is required", cfg.URL)
	}
	methods := 0
	if len(cfg.Disable.Replace) > 0 {
		methods++
	}
	if cfg.Disable.MoveTo != "" {
		methods++
	}
	if cfg.Disable.ActiveDirectory {
		methods++
	}
	if methods != 1 {
		return nil, fmt.Errorf("ldap %s: set exactly one Disable method (Replace, MoveTo or ActiveDirectory)", cfg.URL)
	}
	if len(cfg.ObjectClasses) == 0 {
		cfg.ObjectClasses = []string{"top", "person", "organizationalPerson", "inetOrgPerson"}
	}
	if cfg.NameAttribute == "" {
		cfg.NameAttribute = "uid"
	}
	if cfg.AccountFilter == "" {
		cfg.AccountFilter = "(objectClass=person)"
	}
	if _, err := goldap.CompileFilter(cfg.AccountFilter); err != nil {
		return nil, fmt.Errorf("ldap %s: AccountFilter: %v", cfg.URL, err)
	}
	if cfg.GroupBaseDN == "" {
		cfg.GroupBaseDN = cfg.BaseDN
	}
	if cfg.GroupMemberAttribute == "" {
		cfg.GroupMemberAttribute = "member"
	}
	if len(cfg.GroupObjectClasses) == 0 {
		cfg.GroupObjectClasses = []string{"top", "groupOfNames"}
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 500
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.LoadConnections <= 0 {
		cfg.LoadConnections = 4
	}
	c := &Connector{cfg: cfg}
	var err error
	if c.base, err = goldap.ParseDN(cfg.BaseDN); err != nil {
		return nil, fmt.Errorf("ldap %s: BaseDN %q: %v", cfg.URL, cfg.BaseDN, err)
	}
	c.searchBase = []string{cfg.BaseDN}
	if cfg.Disable.MoveTo != "" {
		if c.moveTo, err = goldap.ParseDN(cfg.Disable.MoveTo); err != nil {
			return nil, fmt.Errorf("ldap %s: Disable.MoveTo %q: %v", cfg.URL, cfg.Disable.MoveTo, err)
		}
		if !c.base.AncestorOfFold(c.moveTo) && !c.base.EqualFold(c.moveTo) {
			c.searchBase = append(c.searchBase, cfg.Disable.MoveTo)
		}
	}
	return c, nil
}

// Close closes the connection.
func (c *Connector) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		err := c.conn.Close()
		c.conn = nil
		return err
	}
	return nil
}

// ---------------------------------------------------------------- errors

// Error is an LDAP failure naming the app and the entry. Its message never
// contains the bind password.
type Error struct {
	URL string
	Op  string
	DN  string
	Err error
	msg string
}

func (e *Error) Error() string { return e.msg }
func (e *Error) Unwrap() error { return e.Err }

// fail wraps err with the app's URL, the operation and the DN; network
// failures and busy/unavailable answers become connector.TemporaryError.
func (c *Connector) fail(op, dn string, err error) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf("ldap %s: %s", c.cfg.URL, op)
	if dn != "" {
		msg += fmt.Sprintf(" %q", dn)
	}
	msg += ": " + err.Error()
	if p := c.cfg.Password; p != "" {
		msg = strings.ReplaceAll(msg, p, "[redacted]")
	}
	e := &Error{URL: c.cfg.URL, Op: op, DN: dn, Err: err, msg: msg}
	if isTemporary(err) {
		return &connector.TemporaryError{Err: e}
	}
	return e
}

func isTemporary(err error) bool {
	// A certificate the client does not trust stays untrusted on retry.
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	if errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalid) {
		return false
	}
	// go-ldap's StartTLS flattens the handshake error into text.
	if msg := err.Error(); strings.Contains(msg, "x509: ") || strings.Contains(msg, "failed to verify certificate") {
		return false
	}
	if goldap.IsErrorAnyOf(err, goldap.ErrorNetwork, goldap.LDAPResultBusy, goldap.LDAPResultUnavailable,
		goldap.LDAPResultServerDown, goldap.LDAPResultTimeout, goldap.LDAPResultConnectError,
		goldap.LDAPResultTimeLimitExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// isNetwork reports errors after which the connection is not usable.
func isNetwork(err error) bool {
	if goldap.IsErrorAnyOf(err, goldap.ErrorNetwork, goldap.LDAPResultServerDown, goldap.LDAPResultTimeout) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// ---------------------------------------------------------------- connection

func (c *Connector) dial(ctx context.Context) (*goldap.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: c.cfg.Timeout}
	if dl, ok := ctx.Deadline(); ok {
		d.Deadline = dl
	}
	tc, err := c.tlsConfig()
	if err != nil {
		return nil, c.fail("dial", "", err)
	}
	conn, err := goldap.DialURL(c.cfg.URL, goldap.DialWithDialer(d), goldap.DialWithTLSConfig(tc))
	if err != nil {
		return nil, c.fail("dial", "", err)
	}
	conn.SetTimeout(c.cfg.Timeout)
	// A server that accepts the connection but never answers holds StartTLS
	// and Bind until the request timeout: give up when ctx ends instead.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if c.cfg.StartTLS {
		if err := conn.StartTLS(tc); err != nil {
			conn.Close()
			return nil, c.fail("starttls", "", err)
		}
	}
	if c.cfg.BindDN != "" {
		if err := conn.Bind(c.cfg.BindDN, c.cfg.Password); err != nil {
			conn.Close()
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return nil, c.fail("bind", c.cfg.BindDN, err)
		}
	}
	if ctx.Err() != nil {
		conn.Close()
		return nil, c.fail("dial", "", ctx.Err())
	}
	return conn, nil
}

func (c *Connector) tlsConfig() (*tls.Config, error) {
	name := c.cfg.ServerName
	if name == "" {
		u, err := url.Parse(c.cfg.URL)
		if err != nil {
			return nil, err
		}
		name = u.Hostname()
	}
	return &tls.Config{
		ServerName:         name,
		RootCAs:            c.cfg.RootCAs,
		InsecureSkipVerify: c.cfg.InsecureSkipVerify, //nolint:gosec // opt-in, tests only
		MinVersion:         tls.VersionTLS12,
	}, nil
}

// do runs f on the shared connection, dialing it first if needed, and drops
// the connection after a network failure so that the next call redials.
func (c *Connector) do(ctx context.Context, op, dn string, f func(*goldap.Conn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	conn := c.conn
	if conn == nil || conn.IsClosing() {
		var err error
		conn, err = c.dial(ctx)
		if err != nil {
			c.mu.Unlock()
			return err
		}
		c.conn = conn
	}
	c.mu.Unlock()
	// go-ldap's requests take no context: when ctx ends first, closing the
	// connection ends the request (and the next call redials).
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	err := f(conn)
	interrupted := !stop()
	if interrupted && err != nil {
		err = ctx.Err()
	}
	if err != nil && (interrupted || isNetwork(err)) {
		c.mu.Lock()
		if c.conn == conn {
			c.conn = nil
		}
		c.mu.Unlock()
		conn.Close()
	}
	return c.fail(op, dn, err)
}

// ---------------------------------------------------------------- mapping

// dnFor is the DN of a new account.
func (c *Connector) dnFor(a connector.Account) string {
	if a.ID != "" {
		return a.ID
	}
	if c.cfg.DNFunc != nil {
		return c.cfg.DNFunc(a)
	}
	return c.cfg.NameAttribute + "=" + goldap.EscapeDN(a.Name) + "," + c.cfg.BaseDN
}

func (c *Connector) addRequest(dn string, a connector.Account) *goldap.AddRequest {
	req := goldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", c.cfg.ObjectClasses)
	set := map[string]bool{}
	if a.Name != "" {
		req.Attribute(c.cfg.NameAttribute, []string{a.Name})
		set[strings.ToLower(c.cfg.NameAttribute)] = true
	}
	if a.Key != "" && !set[strings.ToLower(c.cfg.KeyAttribute)] {
		req.Attribute(c.cfg.KeyAttribute, []string{a.Key})
		set[strings.ToLower(c.cfg.KeyAttribute)] = true
	}
	for _, name := range sortedKeys(a.Attributes) {
		vals := a.Attributes[name]
		if len(vals) == 0 || set[strings.ToLower(name)] || strings.EqualFold(name, "objectClass") {
			continue
		}
		req.Attribute(name, vals)
	}
	return req
}

// modifyRequest replaces the managed attributes (an empty value list
// removes the attribute).
func (c *Connector) modifyRequest(dn string, a connector.Account) *goldap.ModifyRequest {
	req := goldap.NewModifyRequest(dn, nil)
	for _, name := range sortedKeys(a.Attributes) {
		if strings.EqualFold(name, "objectClass") || strings.EqualFold(name, c.cfg.NameAttribute) ||
			strings.EqualFold(name, c.cfg.KeyAttribute) {
			continue
		}
		req.Replace(name, a.Attributes[name])
	}
	if a.Key != "" && !strings.EqualFold(c.cfg.KeyAttribute, c.cfg.NameAttribute) {
		req.Replace(c.cfg.KeyAttribute, []string{a.Key})
	}
	return req
}

// skipAttrs are never reported in Account.Attributes.
var skipAttrs = map[string]bool{"objectclass": true, "userpassword": true, "unicodepwd": true}

func (c *Connector) account(e *goldap.Entry, groups []string) connector.Account {
	a := connector.Account{
		ID:           e.DN,
		Key:          e.GetEqualFoldAttributeValue(c.cfg.KeyAttribute),
		Name:         e.GetEqualFoldAttributeValue(c.cfg.NameAttribute),
		Attributes:   map[string][]string{},
		Entitlements: groups,
		Disabled:     c.disabled(e),
	}
	for _, at := range e.Attributes {
		if skipAttrs[strings.ToLower(at.Name)] || strings.EqualFold(at.Name, c.cfg.NameAttribute) ||
			strings.EqualFold(at.Name, c.cfg.KeyAttribute) {
			continue
		}
		if c.cfg.LastActivityAttribute != "" && strings.EqualFold(at.Name, c.cfg.LastActivityAttribute) {
			// Not a managed attribute: the app keeps it.
			a.LastActivity, _ = ParseActivity(e.GetEqualFoldAttributeValue(at.Name))
			continue
		}
		a.Attributes[at.Name] = append([]string(nil), at.Values...)
	}
	return a
}

// ParseActivity reads a time of last activity as directories write it: a
// generalized time (20260412083000Z, with fractions or an offset), or an
// Active Directory FILETIME (100-nanosecond intervals since 1601, as in
// lastLogonTimestamp; 0 and the largest value mean never). An empty value
// is the zero time.
func ParseActivity(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if strings.Trim(v, "0123456789") == "" && len(v) >= 15 && !strings.HasSuffix(v, "Z") {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("FILETIME %q: %v", v, err)
		}
		if n <= 0 || n == math.MaxInt64 {
			return time.Time{}, nil // never
		}
		const epochDiff = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
		// Whole seconds, then the rest: n-epochDiff in nanoseconds
		// overflows past the year 2262.
		sec, frac := (n-epochDiff)/1e7, (n-epochDiff)%1e7
		return time.Unix(sec, frac*100).UTC(), nil
	}
	if v == "0" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"20060102150405Z0700", "200601021504Z0700", "2006010215Z0700"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("last activity %q: neither a generalized time (20260412083000Z) nor a FILETIME", v)
}

func (c *Connector) disabled(e *goldap.Entry) bool {
	d := c.cfg.Disable
	switch {
	case d.ActiveDirectory:
		v, err := strconv.ParseInt(e.GetEqualFoldAttributeValue(uacAttr), 10, 64)
		return err == nil && v&uacDisabled != 0
	case d.MoveTo != "":
		dn, err := goldap.ParseDN(e.DN)
		return err == nil && c.moveTo.AncestorOfFold(dn)
	default:
		for name, want := range d.Replace {
			have := e.GetEqualFoldAttributeValues(name)
			for _, w := range want {
				if !containsFold(have, w) {
					return false
				}
			}
		}
		return true
	}
}

// accountAttrs are the attributes read for an account.
func (c *Connector) accountAttrs() []string {
	attrs := []string{"*"}
	if c.cfg.Disable.ActiveDirectory {
		attrs = append(attrs, uacAttr)
	}
	if c.cfg.LastActivityAttribute != "" {
		// Operational attributes (authTimestamp) come only when named.
		attrs = append(attrs, c.cfg.LastActivityAttribute)
	}
	return attrs
}

// ---------------------------------------------------------------- search

// find returns the account entry for a: by Key when set, else by ID (or the
// DN computed from Name). It returns an error wrapping connector.ErrNotFound
// when there is none.
func (c *Connector) find(ctx context.Context, a connector.Account) (*goldap.Entry, error) {
	if a.Key != "" {
		return c.findKey(ctx, a.Key)
	}
	dn := c.dnFor(a)
	var entry *goldap.Entry
	err := c.do(ctx, "read", dn, func(conn *goldap.Conn) error {
		res, err := conn.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases,
			0, 0, false, c.cfg.AccountFilter, c.accountAttrs(), nil))
		if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(res.Entries) == 1 {
			entry = res.Entries[0]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if entry == nil {
		return nil, fmt.Errorf("ldap %s: no account %q: %w", c.cfg.URL, dn, connector.ErrNotFound)
	}
	return entry, nil
}

func (c *Connector) findKey(ctx context.Context, key string) (*goldap.Entry, error) {
	filter := "(&" + c.cfg.AccountFilter + "(" + c.cfg.KeyAttribute + "=" + goldap.EscapeFilter(key) + "))"
	var found []*goldap.Entry
	for _, base := range c.searchBase {
		err := c.do(ctx, "search", base, func(conn *goldap.Conn) error {
			res, err := conn.Search(goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
				2, 0, false, filter, c.accountAttrs(), nil))
			if res != nil {
				found = append(found, res.Entries...)
			}
			if goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) {
				return nil // more than one: reported below
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("ldap %s: no account with %s=%q: %w", c.cfg.URL, c.cfg.KeyAttribute, key, connector.ErrNotFound)
	case 1:
		return found[0], nil
	default:
		return nil, fmt.Errorf("ldap %s: %d accounts with %s=%q (%q, %q)", c.cfg.URL, len(found), c.cfg.KeyAttribute, key, found[0].DN, found[1].DN)
	}
}

// pagedSearch calls fn for every entry of a paged search, one page at a time.
func (c *Connector) pagedSearch(ctx context.Context, base, filter string, attrs []string, fn func(*goldap.Entry) error) error {
	paging := goldap.NewControlPaging(uint32(c.cfg.PageSize))
	req := goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		0, 0, false, filter, attrs, []goldap.Control{paging})
	for {
		var res *goldap.SearchResult
		err := c.do(ctx, "search", base, func(conn *goldap.Conn) error {
			var err error
			res, err = conn.Search(req)
			return err
		})
		if err != nil {
			return err
		}
		for _, e := range res.Entries {
			if err := fn(e); err != nil {
				return err
			}
		}
		ctl, ok := goldap.FindControl(res.Controls, goldap.ControlTypePaging).(*goldap.ControlPaging)
		if !ok || len(ctl.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(ctl.Cookie)
	}
}

// groupsOf returns the DNs of the groups below GroupBaseDN listing dn.
func (c *Connector) groupsOf(ctx context.Context, dn string) ([]string, error) {
	filter := "(" + c.cfg.GroupMemberAttribute + "=" + goldap.EscapeFilter(dn) + ")"
	var groups []string
	err := c.pagedSearch(ctx, c.cfg.GroupBaseDN, filter, []string{"1.1"}, func(e *goldap.Entry) error {
		groups = append(groups, e.DN)
		return nil
	})
	return groups, err
}

// ---------------------------------------------------------------- Connector

// Get reads the account whose KeyAttribute equals key, with its groups.
func (c *Connector) Get(ctx context.Context, key string) (connector.Account, error) {
	e, err := c.findKey(ctx, key)
	if err != nil {
		return connector.Account{}, err
	}
	groups, err := c.groupsOf(ctx, e.DN)
	if err != nil {
		return connector.Account{}, err
	}
	return c.account(e, groups), nil
}

// Create adds the account, or updates it when an account with its Key (or
// its DN) exists.
func (c *Connector) Create(ctx context.Context, a connector.Account) (connector.Account, error) {
	if a.Key != "" {
		e, err := c.findKey(ctx, a.Key)
		switch {
		case err == nil:
			a.ID = e.DN
			return a, c.update(ctx, e.DN, a)
		case !errors.Is(err, connector.ErrNotFound):
			return a, err
		}
	}
	dn := c.dnFor(a)
	if err := c.checkNewDN(dn); err != nil {
		return a, err
	}
	err := c.do(ctx, "add", dn, func(conn *goldap.Conn) error { return conn.Add(c.addRequest(dn, a)) })
	if goldap.IsErrorWithCode(err, goldap.LDAPResultEntryAlreadyExists) {
		err = c.update(ctx, dn, a)
	}
	if err != nil {
		return a, err
	}
	a.ID = dn
	return a, nil
}

// checkNewDN refuses to create an account anywhere but exactly one
// single-valued RDN below BaseDN: an HR value put unescaped in an
// account.dn template ("uid=" + person.employee_id + ",ou=people,…" with
// the ID "EVIL1,ou=admins") would otherwise place the account in another
// OU, or give it a multi-valued RDN ("+"). The error is permanent.
func (c *Connector) checkNewDN(dn string) error {
	parsed, err := goldap.ParseDN(dn)
	if err != nil {
		return fmt.Errorf("ldap %s: account DN %q is not a DN: %v", c.cfg.URL, dn, err)
	}
	if len(parsed.RDNs) != len(c.base.RDNs)+1 || !c.base.AncestorOfFold(parsed) || len(parsed.RDNs[0].Attributes) != 1 {
		return fmt.Errorf("ldap %s: account DN %q is not one single-valued RDN directly below the base DN %q; escape HR values in account.dn with dn.escape()",
			c.cfg.URL, dn, c.cfg.BaseDN)
	}
	return nil
}

// Update replaces the managed attributes of an existing account.
func (c *Connector) Update(ctx context.Context, a connector.Account) error {
	e, err := c.find(ctx, a)
	if err != nil {
		return err
	}
	return c.update(ctx, e.DN, a)
}

func (c *Connector) update(ctx context.Context, dn string, a connector.Account) error {
	req := c.modifyRequest(dn, a)
	if len(req.Changes) == 0 {
		return nil
	}
	return c.do(ctx, "modify", dn, func(conn *goldap.Conn) error { return conn.Modify(req) })
}

// Disable disables the account by the configured method; disabling a
// disabled account succeeds.
func (c *Connector) Disable(ctx context.Context, a connector.Account) error {
	return c.setDisabled(ctx, a, true)
}

// Enable undoes Disable.
func (c *Connector) Enable(ctx context.Context, a connector.Account) error {
	return c.setDisabled(ctx, a, false)
}

func (c *Connector) setDisabled(ctx context.Context, a connector.Account, disable bool) error {
	e, err := c.find(ctx, a)
	if err != nil {
		return err
	}
	d := c.cfg.Disable
	switch {
	case d.ActiveDirectory:
		return c.setUAC(ctx, e, disable)
	case d.MoveTo != "":
		if c.disabled(e) == disable {
			return nil
		}
		target := d.MoveTo
		if !disable {
			target = c.cfg.BaseDN
			if c.cfg.DNFunc != nil {
				if p, err := parentDN(c.cfg.DNFunc(a)); err == nil && p != "" {
					target = p
				}
			}
		}
		return c.move(ctx, e.DN, target)
	default:
		req := goldap.NewModifyRequest(e.DN, nil)
		for _, name := range sortedKeys(d.Replace) {
			switch {
			case disable:
				req.Replace(name, d.Replace[name])
			case len(e.GetEqualFoldAttributeValues(name)) > 0:
				req.Delete(name, nil)
			}
		}
		if len(req.Changes) == 0 {
			return nil
		}
		return c.do(ctx, "modify", e.DN, func(conn *goldap.Conn) error { return conn.Modify(req) })
	}
}

// setUAC sets or clears ACCOUNTDISABLE with an atomic delete-old/add-new
// modification, retried when someone changed the value in between.
func (c *Connector) setUAC(ctx context.Context, e *goldap.Entry, disable bool) error {
	for attempt := 0; ; attempt++ {
		old := e.GetEqualFoldAttributeValue(uacAttr)
		v := int64(uacNormal)
		if old != "" {
			var err error
			if v, err = strconv.ParseInt(old, 10, 64); err != nil {
				return c.fail("read", e.DN, fmt.Errorf("%s %q is not an integer", uacAttr, old))
			}
		}
		nv := v &^ uacDisabled
		if disable {
			nv = v | uacDisabled
		}
		if old != "" && nv == v {
			return nil
		}
		req := goldap.NewModifyRequest(e.DN, nil)
		if old == "" {
			req.Add(uacAttr, []string{strconv.FormatInt(nv, 10)})
		} else {
			req.Delete(uacAttr, []string{old})
			req.Add(uacAttr, []string{strconv.FormatInt(nv, 10)})
		}
		err := c.do(ctx, "modify", e.DN, func(conn *goldap.Conn) error { return conn.Modify(req) })
		if attempt < 3 && goldap.IsErrorAnyOf(err, goldap.LDAPResultNoSuchAttribute, goldap.LDAPResultAttributeOrValueExists) {
			if e, err = c.find(ctx, connector.Account{ID: e.DN}); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

// move renames dn below newParent and rewrites the group memberships.
func (c *Connector) move(ctx context.Context, dn, newParent string) error {
	parsed, err := goldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) == 0 {
		return c.fail("move", dn, fmt.Errorf("bad DN: %v", err))
	}
	rdn := parsed.RDNs[0].String()
	newDN := rdn + "," + newParent
	err = c.do(ctx, "move", dn, func(conn *goldap.Conn) error {
		return conn.ModifyDN(goldap.NewModifyDNRequest(dn, rdn, true, newParent))
	})
	if err != nil {
		return err
	}
	groups, err := c.groupsOf(ctx, dn)
	if err != nil {
		return err
	}
	for _, g := range groups {
		req := goldap.NewModifyRequest(g, nil)
		req.Delete(c.cfg.GroupMemberAttribute, []string{dn})
		req.Add(c.cfg.GroupMemberAttribute, []string{newDN})
		err := c.do(ctx, "modify group", g, func(conn *goldap.Conn) error { return conn.Modify(req) })
		if err != nil && !goldap.IsErrorAnyOf(err, goldap.LDAPResultNoSuchAttribute, goldap.LDAPResultAttributeOrValueExists) {
			return err
		}
	}
	return nil
}

// Grant adds the account's DN to the group (entitlement = group DN),
// creating the group when it does not exist.
func (c *Connector) Grant(ctx context.Context, a connector.Account, group string) error {
	e, err := c.find(ctx, a)
	if err != nil {
		return err
	}
	member := c.cfg.GroupMemberAttribute
	for attempt := 0; ; attempt++ {
		req := goldap.NewModifyRequest(group, nil)
		req.Add(member, []string{e.DN})
		err := c.do(ctx, "grant", group, func(conn *goldap.Conn) error { return conn.Modify(req) })
		switch {
		case err == nil, goldap.IsErrorWithCode(err, goldap.LDAPResultAttributeOrValueExists):
			return nil
		case !goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) || attempt > 0:
			return err
		}
		add := goldap.NewAddRequest(group, nil)
		add.Attribute("objectClass", c.cfg.GroupObjectClasses)
		if parsed, perr := goldap.ParseDN(group); perr == nil && len(parsed.RDNs) > 0 {
			for _, at := range parsed.RDNs[0].Attributes {
				add.Attribute(at.Type, []string{at.Value})
			}
		}
		add.Attribute(member, []string{e.DN})
		err = c.do(ctx, "create group", group, func(conn *goldap.Conn) error { return conn.Add(add) })
		if !goldap.IsErrorWithCode(err, goldap.LDAPResultEntryAlreadyExists) {
			return err
		}
		// Created concurrently: add the member to it.
	}
}

// Revoke removes the account's DN from the group. A missing group or
// membership is success. Removing the last member of a groupOfNames (whose
// member attribute is mandatory) leaves the empty DN as a placeholder.
func (c *Connector) Revoke(ctx context.Context, a connector.Account, group string) error {
	e, err := c.find(ctx, a)
	if err != nil {
		return err
	}
	member := c.cfg.GroupMemberAttribute
	req := goldap.NewModifyRequest(group, nil)
	req.Delete(member, []string{e.DN})
	err = c.do(ctx, "revoke", group, func(conn *goldap.Conn) error { return conn.Modify(req) })
	if goldap.IsErrorWithCode(err, goldap.LDAPResultObjectClassViolation) {
		req = goldap.NewModifyRequest(group, nil)
		req.Delete(member, []string{e.DN})
		req.Add(member, []string{""})
		err = c.do(ctx, "revoke", group, func(conn *goldap.Conn) error { return conn.Modify(req) })
	}
	if goldap.IsErrorAnyOf(err, goldap.LDAPResultNoSuchAttribute, goldap.LDAPResultNoSuchObject) {
		return nil
	}
	return err
}

// List calls fn for every account below BaseDN (and the disabled OU), with
// its groups, reading both with paged searches: first all groups below
// GroupBaseDN, then the accounts page by page.
func (c *Connector) List(ctx context.Context, fn func(connector.Account) error) error {
	member := c.cfg.GroupMemberAttribute
	groupsOf := map[string][]string{}
	err := c.pagedSearch(ctx, c.cfg.GroupBaseDN, "("+member+"=*)", []string{member}, func(e *goldap.Entry) error {
		for _, m := range e.GetEqualFoldAttributeValues(member) {
			if m == "" {
				continue
			}
			k := normDN(m)
			groupsOf[k] = append(groupsOf[k], e.DN)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, base := range c.searchBase {
		err := c.pagedSearch(ctx, base, c.cfg.AccountFilter, c.accountAttrs(), func(e *goldap.Entry) error {
			return fn(c.account(e, groupsOf[normDN(e.DN)]))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ---------------------------------------------------------------- bulk load

// Load adds accounts in bulk over LoadConnections concurrent connections,
// for an initial load into a directory that does not hold them yet. An
// account that exists already (same DN) is updated instead. It does not look
// accounts up by Key first, unlike Create. It returns how many accounts were
// written, and stops at the first error.
func (c *Connector) Load(ctx context.Context, accounts []connector.Account) (int, error) {
	if len(accounts) == 0 {
		return 0, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := min(c.cfg.LoadConnections, len(accounts))
	conns := make([]*goldap.Conn, 0, n)
	defer func() {
		for _, conn := range conns {
			conn.Close()
		}
	}()
	for range n {
		conn, err := c.dial(ctx)
		if err != nil {
			return 0, err
		}
		conns = append(conns, conn)
	}
	// Each connection carries a few requests at a time so that neither side
	// waits for a round trip.
	const inFlight = 4
	next := make(chan int)
	var (
		mu      sync.Mutex
		done    int
		firstEr error
		wg      sync.WaitGroup
	)
	for _, conn := range conns {
		for range inFlight {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					a := accounts[i]
					dn := c.dnFor(a)
					err := conn.Add(c.addRequest(dn, a))
					if goldap.IsErrorWithCode(err, goldap.LDAPResultEntryAlreadyExists) {
						if req := c.modifyRequest(dn, a); len(req.Changes) > 0 {
							err = conn.Modify(req)
						} else {
							err = nil
						}
					}
					mu.Lock()
					if err != nil {
						if firstEr == nil {
							firstEr = c.fail("load", dn, err)
						}
						cancel()
					} else {
						done++
					}
					mu.Unlock()
				}
			}()
		}
	}
feed:
	for i := range accounts {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstEr == nil && ctx.Err() != nil && done < len(accounts) {
		firstEr = ctx.Err()
	}
	return done, firstEr
}

// ---------------------------------------------------------------- helpers

func parentDN(dn string) (string, error) {
	parsed, err := goldap.ParseDN(dn)
	if err != nil {
		return "", err
	}
	if len(parsed.RDNs) < 2 {
		return "", nil
	}
	return (&goldap.DN{RDNs: parsed.RDNs[1:]}).String(), nil
}

// normDN is a comparison key for a DN: attribute types and values folded to
// lower case, spacing normalised.
func normDN(dn string) string {
	parsed, err := goldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(dn))
	}
	var b strings.Builder
	for i, rdn := range parsed.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		for j, at := range rdn.Attributes {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(strings.ToLower(at.Type))
			b.WriteByte('=')
			b.WriteString(goldap.EscapeDN(strings.ToLower(at.Value)))
		}
	}
	return b.String()
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string][]string) []string {
	return slices.Sorted(maps.Keys(m))
}

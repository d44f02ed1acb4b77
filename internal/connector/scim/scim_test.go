package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/connector/connectortest"
	"github.com/tango-iga/tango/internal/connector/scim"
	"github.com/tango-iga/tango/internal/testenv"
)

const employeeNumber = scim.EnterpriseUserSchema + ":employeeNumber"

func config(s *testenv.SCIMServer) scim.Config {
	return scim.Config{
		BaseURL:   s.URL,
		Token:     s.Token,
		PageSize:  testenv.SCIMMaxPageSize,
		Timeout:   10 * time.Second,
		RetryBase: 20 * time.Millisecond,
	}
}

func newAccount(n int) connector.Account {
	return connector.Account{
		Key:  fmt.Sprintf("E%06d", n),
		Name: fmt.Sprintf("user%06d", n),
		Attributes: map[string][]string{
			"displayName":     {fmt.Sprintf("User %d", n)},
			"name.givenName":  {"Test"},
			"name.familyName": {fmt.Sprintf("Number%d", n)},
			"emails":          {fmt.Sprintf("user%06d@dtaa.com", n)},
			"title":           {"Engineer"},
			employeeNumber:    {fmt.Sprint(n)},
		},
	}
}

func newConnector(t testing.TB, cfg scim.Config) *scim.Connector {
	t.Helper()
	c, err := scim.FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Without a session-revocation endpoint the connector offers none (the
// suite checks it does not claim one).
func TestConformance(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	connectortest.Run(t, func(t *testing.T) connector.Connector {
		return newConnector(t, config(s))
	}, connectortest.Options{
		NewAccount:      newAccount,
		UpdateAttribute: "title",
		Entitlements:    []string{"tango-g0", "tango-g1"},
		PageSize:        testenv.SCIMMaxPageSize,
	})
}

// With the server's proprietary session-revocation endpoint configured.
func TestConformanceRevokeSessions(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	connectortest.Run(t, func(t *testing.T) connector.Connector {
		cfg := config(s)
		cfg.RevokeSessionsPath = "/Users/{id}/revokeSessions"
		return newConnector(t, cfg)
	}, connectortest.Options{
		NewAccount:      newAccount,
		UpdateAttribute: "title",
		Entitlements:    []string{"tango-g0", "tango-g1"},
		PageSize:        testenv.SCIMMaxPageSize,
		SessionsRevoked: func(t *testing.T, a connector.Account) bool {
			return s.SessionRevocations(t)[a.ID] > 0
		},
	})
}

// The revocation endpoint's 404 (an unknown User, after the lookup by
// key) is connector.ErrNotFound; its 503 is retried; a bad path is a
// configuration error.
func TestRevokeSessionsErrors(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	cfg := config(s)
	cfg.RevokeSessionsPath = "/Users/{id}/revokeSessions"
	c := newConnector(t, cfg)
	ctx := context.Background()
	err := c.RevokeSessions(ctx, connector.Account{Key: "E-nobody"})
	if !errors.Is(err, connector.ErrNotFound) || connector.IsTemporary(err) {
		t.Errorf("RevokeSessions of an unknown User: %v, want connector.ErrNotFound", err)
	}
	created, err := c.Create(ctx, newAccount(1))
	if err != nil {
		t.Fatal(err)
	}
	s.Fail(t, http.StatusServiceUnavailable, 0, 1)
	if err := c.RevokeSessions(ctx, created); err != nil {
		t.Fatalf("RevokeSessions after one 503: %v", err)
	}
	if n := s.SessionRevocations(t)[created.ID]; n != 1 {
		t.Errorf("%d revocations recorded, want 1", n)
	}
	for _, bad := range []string{"Users/{id}/revoke", "/Users/revoke", "/Users/{id}/{id}", "/x?{id}", "/../{id}"} {
		cfg := config(s)
		cfg.RevokeSessionsPath = bad
		if _, err := scim.FromConfig(cfg); err == nil {
			t.Errorf("RevokeSessionsPath %q accepted", bad)
		}
	}
	if connector.RevokerOf(newConnector(t, config(s))) != nil {
		t.Error("a SCIM app without RevokeSessionsPath offers session revocation")
	}
}

// With Tango attribute names mapped to SCIM ones, and a page size larger
// than the server's (the server's smaller pages are followed).
func TestConformanceMappedAttributes(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	connectortest.Run(t, func(t *testing.T) connector.Connector {
		cfg := config(s)
		cfg.PageSize = 25
		cfg.Attributes = map[string]string{
			"mail":           "emails",
			"givenName":      "name.givenName",
			"sn":             "name.familyName",
			"employeeNumber": employeeNumber,
			"department":     scim.EnterpriseUserSchema + ":department",
		}
		return newConnector(t, cfg)
	}, connectortest.Options{
		NewAccount: func(n int) connector.Account {
			return connector.Account{
				Key:  fmt.Sprintf("M%06d", n),
				Name: fmt.Sprintf("mapped%06d", n),
				Attributes: map[string][]string{
					"givenName":      {"Mapped"},
					"sn":             {fmt.Sprintf("Number%d", n)},
					"mail":           {fmt.Sprintf("m%06d@dtaa.com", n), fmt.Sprintf("alias%06d@dtaa.com", n)},
					"employeeNumber": {fmt.Sprint(n)},
					"department":     {"R&D"},
				},
			}
		},
		UpdateAttribute: "department",
		Entitlements:    []string{"Mapped Admins", "Mapped Users"},
		PageSize:        testenv.SCIMMaxPageSize,
	})
}

// raw makes a SCIM request to the server directly, not through the
// connector, and decodes the JSON response.
func raw(t testing.TB, s *testenv.SCIMServer, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(resp.Body)
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode, out
}

func rawUser(t testing.TB, s *testenv.SCIMServer, userName, externalID string) string {
	t.Helper()
	u := map[string]any{"schemas": []string{scim.UserSchema}, "userName": userName, "displayName": "Made elsewhere"}
	if externalID != "" {
		u["externalId"] = externalID
	}
	status, res := raw(t, s, http.MethodPost, "/Users", u)
	if status != http.StatusCreated {
		t.Fatalf("POST /Users %s: %d %v", userName, status, res)
	}
	return res["id"].(string)
}

func TestRetryAfter429(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	c := newConnector(t, config(s))
	ctx := context.Background()
	a := newAccount(1)
	if _, err := c.Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	before := s.Stats(t)
	s.Fail(t, http.StatusTooManyRequests, 1, 2)
	start := time.Now()
	got, err := c.Get(ctx, a.Key)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("Get after two 429s: %v", err)
	}
	if got.Key != a.Key {
		t.Errorf("Get = %+v", got)
	}
	after := s.Stats(t)
	if n := after.Failed - before.Failed; n != 2 {
		t.Errorf("server failed %d requests, want 2", n)
	}
	if n := after.Requests - before.Requests; n < 3 {
		t.Errorf("server saw %d requests, want at least 3 (2 refused, then served)", n)
	}
	// Retry-After: 1 twice, not the 20 ms backoff of the configuration.
	if elapsed < 1900*time.Millisecond {
		t.Errorf("Get took %v; Retry-After asked for 2 x 1 s", elapsed)
	}
}

func TestRetry503(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	c := newConnector(t, config(s))
	ctx := context.Background()
	s.Fail(t, http.StatusServiceUnavailable, 0, 1)
	a := newAccount(2)
	if _, err := c.Create(ctx, a); err != nil {
		t.Fatalf("Create after one 503: %v", err)
	}
	if st := s.Stats(t); st.Failed != 1 || st.Users != 1 {
		t.Errorf("stats = %+v, want 1 failed request and 1 user", st)
	}
	if _, err := c.Get(ctx, a.Key); err != nil {
		t.Fatalf("Get: %v", err)
	}
}

func TestPersistent503IsTemporary(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	cfg := config(s)
	cfg.MaxRetries = 2
	c := newConnector(t, cfg)
	ctx := context.Background()
	before := s.Stats(t)
	s.Fail(t, http.StatusServiceUnavailable, 0, 100)
	_, err := c.Get(ctx, "E1")
	if !connector.IsTemporary(err) {
		t.Fatalf("Get with the server failing: %v, want a TemporaryError", err)
	}
	if errors.Is(err, connector.ErrNotFound) || !strings.Contains(err.Error(), "503") {
		t.Errorf("error should report the 503: %v", err)
	}
	if n := s.Stats(t).Requests - before.Requests; n != 3 {
		t.Errorf("server saw %d requests, want 3 (MaxRetries 2)", n)
	}
	s.Fail(t, http.StatusServiceUnavailable, 0, 0) // disarm
	if _, err := c.Get(ctx, "E1"); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("Get once the server recovered: %v, want ErrNotFound", err)
	}
}

// A Retry-After longer than MaxRetryWait is not waited for: the caller
// gets it in the TemporaryError.
func TestLongRetryAfterReturned(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	cfg := config(s)
	cfg.MaxRetryWait = 5 * time.Second
	c := newConnector(t, cfg)
	s.Fail(t, http.StatusTooManyRequests, 120, 1)
	start := time.Now()
	_, err := c.Get(context.Background(), "E1")
	var te *connector.TemporaryError
	if !errors.As(err, &te) || te.RetryAfter != 120 {
		t.Fatalf("Get: %v, want a TemporaryError with RetryAfter 120", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Get waited %v", d)
	}
}

func TestConflictOnCreate(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	c := newConnector(t, config(s))
	ctx := context.Background()

	// An account made outside Tango with the userName and no externalId is
	// taken over.
	a := newAccount(3)
	orphan := rawUser(t, s, a.Name, "")
	got, err := c.Create(ctx, a)
	if err != nil {
		t.Fatalf("Create over an orphan with the same userName: %v", err)
	}
	if got.ID != orphan {
		t.Errorf("Create ID = %q, want the orphan's %q", got.ID, orphan)
	}
	read, err := c.Get(ctx, a.Key)
	if err != nil {
		t.Fatalf("Get after the takeover: %v", err)
	}
	if read.ID != orphan || read.Name != a.Name || !slices.Equal(read.Attributes["displayName"], a.Attributes["displayName"]) {
		t.Errorf("Get after the takeover = %+v", read)
	}
	if st := s.Stats(t); st.Users != 1 {
		t.Errorf("server holds %d users, want 1", st.Users)
	}

	// One that belongs to someone else (another externalId) is not.
	b := newAccount(4)
	other := rawUser(t, s, b.Name, "SOMEONE-ELSE")
	_, err = c.Create(ctx, b)
	var apiErr *scim.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict || apiErr.ScimType != "uniqueness" {
		t.Fatalf("Create over another person's userName: %v, want a 409 uniqueness error", err)
	}
	if connector.IsTemporary(err) || !strings.Contains(err.Error(), "SOMEONE-ELSE") {
		t.Errorf("error should be permanent and name the holder: %v", err)
	}
	if status, res := raw(t, s, http.MethodGet, "/Users/"+other, nil); status != http.StatusOK || res["externalId"] != "SOMEONE-ELSE" {
		t.Errorf("the other account changed: %d %v", status, res)
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	ctx := context.Background()
	cfg := config(s)
	cfg.Token = "Wr0ng-" + s.Token
	c := newConnector(t, cfg)
	a := newAccount(5)
	a.ID = "some-id"
	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s with a wrong token succeeded", what)
			return
		}
		msg := err.Error()
		if strings.Contains(msg, cfg.Token) || strings.Contains(msg, s.Token) {
			t.Errorf("%s: error contains the token: %s", what, msg)
		}
		if connector.IsTemporary(err) {
			t.Errorf("%s: bad credentials reported as temporary: %v", what, err)
		}
		var apiErr *scim.Error
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
			t.Errorf("%s: %v, want a 401 error", what, err)
		}
		if !strings.Contains(msg, s.URL) {
			t.Errorf("%s: error does not name the app: %s", what, msg)
		}
	}
	_, err := c.Get(ctx, a.Key)
	check("Get", err)
	_, err = c.Create(ctx, a)
	check("Create", err)
	check("Update", c.Update(ctx, a))
	check("Disable", c.Disable(ctx, a))
	check("Enable", c.Enable(ctx, a))
	check("Grant", c.Grant(ctx, a, "g"))
	check("Revoke", c.Revoke(ctx, a, "g"))
	check("List", c.List(ctx, func(connector.Account) error { return nil }))

	// Text from the server or the connector that happens to contain the
	// token (here a userName equal to it, refused as taken) is redacted.
	c = newConnector(t, config(s))
	rawUser(t, s, s.Token, "SOMEONE-ELSE")
	b := newAccount(6)
	b.Name = s.Token
	_, err = c.Create(ctx, b)
	if err == nil {
		t.Fatal("Create with a taken userName succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, s.Token) || !strings.Contains(msg, "[redacted]") {
		t.Errorf("error does not redact the token: %s", msg)
	}
	var apiErr *scim.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict {
		t.Errorf("redacted error lost its cause: %v", err)
	}
}

func TestServerStoppedThenBack(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	cfg := config(s)
	cfg.MaxRetries = 1
	c := newConnector(t, cfg)
	ctx := context.Background()
	a := newAccount(7)
	created, err := c.Create(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Grant(ctx, created, "leavers-test"); err != nil {
		t.Fatal(err)
	}

	s.Stop(t)
	err = c.Disable(ctx, created)
	if !connector.IsTemporary(err) {
		t.Fatalf("Disable with the server stopped: %v, want a TemporaryError", err)
	}
	if strings.Contains(err.Error(), s.Token) {
		t.Errorf("error contains the token: %v", err)
	}

	s.Start(t)
	if err := c.Disable(ctx, created); err != nil {
		t.Fatalf("Disable once the server is back: %v", err)
	}
	got, err := c.Get(ctx, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Disabled || got.ID != created.ID {
		t.Errorf("after Disable: %+v, want the same account, disabled", got)
	}
	if !slices.Equal(got.Entitlements, []string{"leavers-test"}) {
		t.Errorf("entitlements after the restart = %q", got.Entitlements)
	}
}

func TestUnreachableIsTemporary(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newConnector(t, scim.Config{BaseURL: "http://" + addr + "/scim/v2", Token: "secret-token", MaxRetries: -1})
	_, err = c.Get(context.Background(), "E1")
	if !connector.IsTemporary(err) {
		t.Fatalf("connection refused: %v, want a TemporaryError", err)
	}
	if !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("error should name the URL and not the token: %v", err)
	}
}

// Errors other than 404, 409 and 429 are permanent and carry the SCIM
// scimType and detail.
func TestBadRequestIsPermanent(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	c := newConnector(t, config(s))
	a := newAccount(8)
	a.Attributes["active"] = []string{"maybe"} // not a boolean
	_, err := c.Create(context.Background(), a)
	var apiErr *scim.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		t.Fatalf("Create with a bad value: %v, want a 400 error", err)
	}
	if connector.IsTemporary(err) || apiErr.Detail == "" || !strings.Contains(err.Error(), apiErr.Detail) {
		t.Errorf("error should be permanent and carry the detail: %v (%+v)", err, apiErr)
	}
	if apiErr.ScimType == "" || !strings.Contains(err.Error(), apiErr.ScimType) {
		t.Errorf("error should carry the scimType: %v (%+v)", err, apiErr)
	}
}

func TestKeyUserName(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	cfg := config(s)
	cfg.KeyAttribute = "userName"
	c := newConnector(t, cfg)
	ctx := context.Background()
	a := newAccount(9)
	a.Key = a.Name
	created, err := c.Create(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, a.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != created.ID || got.Key != a.Name || got.Name != a.Name {
		t.Errorf("Get = %+v, want key and name %s", got, a.Name)
	}
	if _, ok := got.Attributes["externalId"]; ok {
		t.Errorf("externalId set in userName mode: %v", got.Attributes)
	}
	if _, err := c.Get(ctx, "E000009"); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("Get by externalId in userName mode: %v, want ErrNotFound", err)
	}
}

// A stale ID (the account was recreated by someone) falls back to the key.
func TestStaleID(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	c := newConnector(t, config(s))
	ctx := context.Background()
	a := newAccount(10)
	created, err := c.Create(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := raw(t, s, http.MethodDelete, "/Users/"+url.PathEscape(created.ID), nil); status != http.StatusNoContent {
		t.Fatalf("DELETE: %d", status)
	}
	again, err := c.Create(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == created.ID {
		t.Fatal("server reused the id")
	}
	if err := c.Disable(ctx, created); err != nil {
		t.Fatalf("Disable with the stale ID: %v", err)
	}
	if got, err := c.Get(ctx, a.Key); err != nil || !got.Disabled || got.ID != again.ID {
		t.Errorf("Get = %+v, %v; want the new account, disabled", got, err)
	}
	// Without a key to fall back on, the 404 is reported.
	gone := connector.Account{ID: created.ID}
	var apiErr *scim.Error
	if err := c.Disable(ctx, gone); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Errorf("Disable of a deleted ID without key: %v, want a 404 error", err)
	}
}

func TestRevokeUnknownGroup(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	c := newConnector(t, config(s))
	ctx := context.Background()
	created, err := c.Create(ctx, newAccount(11))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Revoke(ctx, created, "no-such-group"); err != nil {
		t.Errorf("Revoke of a group that does not exist: %v", err)
	}
	if st := s.Stats(t); st.Groups != 0 {
		t.Errorf("Revoke created %d groups", st.Groups)
	}
}

func TestRateLimit(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	cfg := config(s)
	cfg.RequestsPerSecond = 20
	c := newConnector(t, cfg)
	ctx := context.Background()
	before := s.Stats(t)
	start := time.Now()
	for range 11 {
		if _, err := c.Get(ctx, "E1"); !errors.Is(err, connector.ErrNotFound) {
			t.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	if n := s.Stats(t).Requests - before.Requests; n != 11 {
		t.Fatalf("server saw %d requests, want 11", n)
	}
	// 1 immediately, then 10 at 20/s.
	if elapsed < 450*time.Millisecond {
		t.Errorf("11 requests at 20/s took %v, want at least 500ms", elapsed)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []scim.Config{
		{Token: "t"},
		{BaseURL: "ftp://x/scim", Token: "t"},
		{BaseURL: "http://user:pw@x/scim", Token: "t"},
		{BaseURL: "http://x/scim"},
		{BaseURL: "http://x/scim", Token: "t", KeyAttribute: "employeeNumber"},
		{BaseURL: "http://x/scim", Token: "t", Attributes: map[string]string{"a": "emails[type eq \"work\"]"}},
		{BaseURL: "http://x/scim", Token: "t", Attributes: map[string]string{"a": "emails", "b": "emails"}},
		{BaseURL: "http://x/scim", Token: "t", RequestsPerSecond: -1},
	} {
		if _, err := scim.FromConfig(cfg); err == nil {
			t.Errorf("FromConfig(%+v) succeeded", cfg)
		}
	}
}

// activitySchema is the test server's extension carrying lastLogin, as
// apps that report sign-ins have one.
const activitySchema = "urn:ietf:params:scim:schemas:extension:tango-test:2.0:User"

// The last sign-in is read from the configured attribute path of the
// app's extension: absent until the app records one, then the time it
// recorded, from Get and List alike, and not reported as a managed
// attribute. meta.lastModified is no sign-in and is refused.
func TestLastLoginAttribute(t *testing.T) {
	s := testenv.StartSCIMServer(t)
	cfg := config(s)
	cfg.LastLoginAttribute = activitySchema + ":lastLogin"
	c := newConnector(t, cfg)
	ctx := context.Background()
	ann, err := c.Create(ctx, newAccount(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, newAccount(2)); err != nil {
		t.Fatal(err)
	}
	if a, err := c.Get(ctx, ann.Key); err != nil || !a.LastActivity.IsZero() {
		t.Fatalf("before any sign-in: %+v %v", a, err)
	}
	// The app records Ann's sign-in.
	at := time.Date(2026, 7, 16, 9, 30, 15, 0, time.UTC)
	status, res := raw(t, s, http.MethodPatch, "/Users/"+ann.ID, map[string]any{"schemas": []string{scim.PatchOpMessage},
		"Operations": []map[string]any{{"op": "add", "value": map[string]any{activitySchema: map[string]any{"lastLogin": at.Format(time.RFC3339)}}}}})
	if status != http.StatusOK {
		t.Fatalf("the app records a sign-in: %d %v", status, res)
	}
	a, err := c.Get(ctx, ann.Key)
	if err != nil || !a.LastActivity.Equal(at) {
		t.Fatalf("after the sign-in: last activity %v (%v), want %v", a.LastActivity, err, at)
	}
	for name := range a.Attributes {
		if strings.Contains(strings.ToLower(name), "lastlogin") {
			t.Errorf("lastLogin reported as a managed attribute: %v", a.Attributes)
		}
	}
	got := map[string]time.Time{}
	if err := c.List(ctx, func(a connector.Account) error { got[a.Key] = a.LastActivity; return nil }); err != nil {
		t.Fatal(err)
	}
	if !got[ann.Key].Equal(at) || !got[newAccount(2).Key].IsZero() || len(got) != 2 {
		t.Fatalf("List's last activity %v: want Ann's %v and none for the other", got, at)
	}
	// Without the setting nothing is read.
	if a, err := newConnector(t, config(s)).Get(ctx, ann.Key); err != nil || !a.LastActivity.IsZero() {
		t.Fatalf("without last_login_attribute: %+v %v", a, err)
	}
	for _, bad := range []string{"meta.lastModified", "meta.created", "last login"} {
		cfg := config(s)
		cfg.LastLoginAttribute = bad
		if _, err := scim.FromConfig(cfg); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("LastLoginAttribute %q: %v, want refused naming it", bad, err)
		}
	}
}

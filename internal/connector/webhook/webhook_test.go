package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/connector/connectortest"
	"github.com/tango-iga/tango/internal/connector/webhook"
)

const testSecret = "whsec-8f3Kq29xLmZ0tTango"

// The wire format as the receiver reads it, written out here rather than
// taken from the package, so that the tests check the documented format.
type wireAccount struct {
	ID           string              `json:"id"`
	Key          string              `json:"key"`
	Name         string              `json:"name"`
	Attributes   map[string][]string `json:"attributes"`
	Entitlements []string            `json:"entitlements"`
	Disabled     bool                `json:"disabled"`
}

type wireDelivery struct {
	ID          string      `json:"id"`
	Type        string      `json:"type"`
	OccurredAt  string      `json:"occurred_at"`
	Text        string      `json:"text"`
	Account     wireAccount `json:"account"`
	Entitlement string      `json:"entitlement"`
}

// attempt is one POST the receiver accepted the signature of.
type attempt struct {
	Delivery  string
	Type      string
	Timestamp string
}

// failure is a refusal queued on the receiver.
type failure struct {
	status     int
	retryAfter string
	body       string
	afterApply bool // apply the delivery, then refuse (the answer is "lost")
}

// receiver is a webhook receiver on loopback: it verifies every request's
// signature, applies the deliveries to its accounts (once per delivery id)
// and serves them on its list endpoint.
type receiver struct {
	t        testing.TB
	secret   string
	srv      *httptest.Server
	maxPage  int
	noIDBody bool // answer deliveries "ok", like a chat tool
	get404   bool // answer ?key= for an unknown key with 404

	mu       sync.Mutex
	accounts map[string]*wireAccount // by key
	nextID   int
	applied  map[string]int // delivery id -> times applied
	attempts []attempt
	rejected int // requests refused with 401
	gets     int
	fail     []failure
	sessions map[string]int // key -> account.sessions_revoked applied
}

func startReceiver(t testing.TB) *receiver {
	t.Helper()
	r := &receiver{t: t, secret: testSecret, maxPage: 10, accounts: map[string]*wireAccount{}, applied: map[string]int{}, sessions: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hook", r.deliver)
	mux.HandleFunc("GET /accounts", r.list)
	r.srv = httptest.NewServer(mux) // loopback
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) config() webhook.Config {
	return webhook.Config{
		URL:       r.srv.URL + "/hook",
		ListURL:   r.srv.URL + "/accounts",
		Secret:    r.secret,
		AppName:   "crm",
		PageSize:  10,
		Timeout:   10 * time.Second,
		RetryBase: 20 * time.Millisecond,
	}
}

func (r *receiver) failNext(f ...failure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = append(r.fail, f...)
}

func (r *receiver) verify(w http.ResponseWriter, req *http.Request, body []byte) bool {
	err := webhook.Verify(r.secret, req.Header.Get("X-Tango-Timestamp"), string(body), req.Header.Get("X-Tango-Signature"), 5*time.Minute)
	if err != nil {
		r.mu.Lock()
		r.rejected++
		r.mu.Unlock()
		http.Error(w, "signature: "+err.Error(), http.StatusUnauthorized)
		return false
	}
	return true
}

func (r *receiver) deliver(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !r.verify(w, req, body) {
		return
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		http.Error(w, "content type "+ct, http.StatusUnsupportedMediaType)
		return
	}
	var d wireDelivery
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		http.Error(w, "bad delivery: "+err.Error(), http.StatusBadRequest)
		return
	}
	if d.ID == "" || req.Header.Get("X-Tango-Delivery") != d.ID {
		http.Error(w, "delivery id header and body differ", http.StatusBadRequest)
		return
	}
	if _, err := time.Parse(time.RFC3339, d.OccurredAt); err != nil {
		http.Error(w, "occurred_at: "+err.Error(), http.StatusBadRequest)
		return
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, attempt{Delivery: d.ID, Type: d.Type, Timestamp: req.Header.Get("X-Tango-Timestamp")})
	var f *failure
	if len(r.fail) > 0 {
		f = &r.fail[0]
		r.fail = r.fail[1:]
	}
	refuse := func() {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.WriteHeader(f.status)
		io.WriteString(w, f.body)
	}
	if f != nil && !f.afterApply {
		refuse()
		return
	}
	var acc *wireAccount
	if r.applied[d.ID] == 0 { // a delivery received again is not applied again
		var status int
		if acc, status = r.apply(d); status != 0 {
			http.Error(w, "cannot apply "+d.Type, status)
			return
		}
	} else {
		acc = r.find(d.Account)
	}
	r.applied[d.ID]++
	if f != nil {
		refuse()
		return
	}
	if r.noIDBody {
		io.WriteString(w, "ok")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"account": map[string]string{"id": acc.ID}})
}

func (r *receiver) find(a wireAccount) *wireAccount {
	if acc := r.accounts[a.Key]; acc != nil && a.Key != "" {
		return acc
	}
	for _, acc := range r.accounts {
		if a.ID != "" && acc.ID == a.ID {
			return acc
		}
	}
	return nil
}

// apply changes the accounts as d asks; a non-zero status refuses it.
func (r *receiver) apply(d wireDelivery) (*wireAccount, int) {
	acc := r.find(d.Account)
	if d.Type == "account.created" && acc == nil {
		if d.Account.Key == "" {
			return nil, http.StatusUnprocessableEntity
		}
		r.nextID++
		acc = &wireAccount{ID: fmt.Sprintf("wh-%d", r.nextID), Key: d.Account.Key, Entitlements: []string{}}
		r.accounts[acc.Key] = acc
	}
	if acc == nil {
		return nil, http.StatusNotFound
	}
	switch d.Type {
	case "account.created", "account.updated":
		acc.Name = d.Account.Name
		acc.Attributes = d.Account.Attributes
	case "account.disabled", "account.enabled":
		if d.Account.Disabled != (d.Type == "account.disabled") {
			return nil, http.StatusBadRequest
		}
		acc.Disabled = d.Account.Disabled
	case "entitlement.granted":
		if d.Entitlement == "" {
			return nil, http.StatusBadRequest
		}
		if !slices.Contains(acc.Entitlements, d.Entitlement) {
			acc.Entitlements = append(acc.Entitlements, d.Entitlement)
		}
	case "entitlement.revoked":
		if d.Entitlement == "" {
			return nil, http.StatusBadRequest
		}
		acc.Entitlements = slices.DeleteFunc(acc.Entitlements, func(e string) bool { return e == d.Entitlement })
	case "account.sessions_revoked":
		if d.Entitlement != "" {
			return nil, http.StatusBadRequest
		}
		r.sessions[acc.Key]++ // the account itself does not change
	default:
		return nil, http.StatusBadRequest
	}
	return acc, 0
}

func (r *receiver) list(w http.ResponseWriter, req *http.Request) {
	if !r.verify(w, req, nil) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gets++
	var page []*wireAccount
	total := 0
	q := req.URL.Query()
	if q.Has("key") {
		if acc := r.accounts[q.Get("key")]; acc != nil {
			page, total = []*wireAccount{acc}, 1
		} else if r.get404 {
			http.Error(w, "no such account", http.StatusNotFound)
			return
		}
	} else {
		start, err1 := strconv.Atoi(q.Get("startIndex"))
		count, err2 := strconv.Atoi(q.Get("count"))
		if err1 != nil || err2 != nil || start < 1 || count < 1 {
			http.Error(w, "startIndex and count required", http.StatusBadRequest)
			return
		}
		count = min(count, r.maxPage)
		keys := make([]string, 0, len(r.accounts))
		for k := range r.accounts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		total = len(keys)
		for i := start - 1; i < len(keys) && i < start-1+count; i++ {
			page = append(page, r.accounts[keys[i]])
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if page == nil {
		page = []*wireAccount{}
	}
	json.NewEncoder(w).Encode(map[string]any{"accounts": page, "total": total})
}

// attemptsOf returns the accepted POSTs since index from.
func (r *receiver) attemptsSince(from int) []attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.attempts[from:])
}

func (r *receiver) nAttempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.attempts)
}

// sessionsRevoked reports whether the receiver ended the sessions of the
// account with a's key.
func (r *receiver) sessionsRevoked(_ *testing.T, a connector.Account) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions[a.Key] > 0
}

func (r *receiver) account(key string) (wireAccount, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	acc := r.accounts[key]
	if acc == nil {
		return wireAccount{}, false
	}
	return *acc, true
}

func newAccount(n int) connector.Account {
	return connector.Account{
		Key:  fmt.Sprintf("E%06d", n),
		Name: fmt.Sprintf("user%06d", n),
		Attributes: map[string][]string{
			"displayName": {fmt.Sprintf("User %d", n)},
			"mail":        {fmt.Sprintf("user%06d@dtaa.com", n), fmt.Sprintf("alias%06d@dtaa.com", n)},
			"title":       {"Engineer"},
		},
	}
}

func newConnector(t testing.TB, cfg webhook.Config) *webhook.Connector {
	t.Helper()
	c, err := webhook.FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sameDelivery checks that the attempts are n tries of one delivery of typ.
func sameDelivery(t *testing.T, got []attempt, n int, typ string) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("receiver got %d attempts, want %d: %+v", len(got), n, got)
	}
	for _, a := range got {
		if a.Delivery != got[0].Delivery || a.Type != typ {
			t.Errorf("attempts %+v: want %d tries of one %s delivery", got, n, typ)
			return
		}
	}
}

// ------------------------------------------------------------ conformance

func TestConformance(t *testing.T) {
	r := startReceiver(t)
	connectortest.Run(t, func(t *testing.T) connector.Connector {
		return newConnector(t, r.config())
	}, connectortest.Options{
		NewAccount:      newAccount,
		UpdateAttribute: "title",
		Entitlements:    []string{"crm-admins", "crm-users"},
		PageSize:        10,
		SessionsRevoked: r.sessionsRevoked,
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rejected != 0 {
		t.Errorf("receiver refused %d signatures", r.rejected)
	}
	if len(r.attempts) < 100 || r.gets < 10 {
		t.Errorf("receiver saw %d deliveries and %d list requests: the suite did not go through it", len(r.attempts), r.gets)
	}
	for id, n := range r.applied {
		if n != 1 {
			t.Errorf("delivery %s received %d times without failures", id, n)
		}
	}
}

// A receiver that answers "ok" (as chat tools do) gives no account id:
// Create takes the one the list endpoint reports.
func TestConformanceReceiverWithoutIDs(t *testing.T) {
	r := startReceiver(t)
	r.noIDBody = true
	r.maxPage = 7 // smaller than the connector's pages
	connectortest.Run(t, func(t *testing.T) connector.Connector {
		return newConnector(t, r.config())
	}, connectortest.Options{
		NewAccount:      newAccount,
		UpdateAttribute: "title",
		Entitlements:    []string{"crm-admins", "crm-users"},
		PageSize:        10,
		SessionsRevoked: r.sessionsRevoked,
	})
	got, err := newConnector(t, r.config()).Create(context.Background(), newAccount(1))
	if err != nil {
		t.Fatal(err)
	}
	if acc, _ := r.account(got.Key); got.ID != acc.ID || !strings.HasPrefix(got.ID, "wh-") {
		t.Errorf("Create ID = %q, want the receiver's %q", got.ID, acc.ID)
	}
}

// ------------------------------------------------------------ format

type captured struct {
	method, path string
	header       http.Header
	body         []byte
}

// startCapture starts a receiver that records every request and answers ok.
func startCapture(t *testing.T) (*httptest.Server, func() []captured) {
	var mu sync.Mutex
	var got []captured
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		mu.Lock()
		got = append(got, captured{req.Method, req.URL.Path, req.Header.Clone(), body})
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, func() []captured {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

func hmacHex(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func TestDeliveryFormatAndSignature(t *testing.T) {
	srv, requests := startCapture(t)
	c := newConnector(t, webhook.Config{URL: srv.URL + "/hook", Secret: testSecret, AppName: "crm",
		Headers: map[string]string{"X-Extra": "static"}})
	ctx := context.Background()
	a := connector.Account{Key: "E123", Name: "jdoe", Attributes: map[string][]string{"mail": {"jdoe@dtaa.com"}}}
	start := time.Now()
	if err := c.Disable(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := c.Grant(ctx, a, "crm-admins"); err != nil {
		t.Fatal(err)
	}
	created, err := c.Create(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if created.ID != "E123" {
		t.Errorf("Create without an id in the answer nor a list URL: ID %q, want the key", created.ID)
	}
	reqs := requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}

	// The disable delivery, header by header.
	d := reqs[0]
	if d.method != http.MethodPost || d.path != "/hook" {
		t.Errorf("request %s %s, want POST /hook", d.method, d.path)
	}
	if ct := d.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if h := d.header.Get("X-Extra"); h != "static" {
		t.Errorf("X-Extra %q, want the configured header", h)
	}
	ts := d.header.Get("X-Tango-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec < start.Unix() || sec > time.Now().Unix() {
		t.Errorf("X-Tango-Timestamp %q, want unix seconds of the request (%d..)", ts, start.Unix())
	}
	wantSig := "sha256=" + hmacHex(testSecret, ts+"."+string(d.body))
	if sig := d.header.Get("X-Tango-Signature"); sig != wantSig {
		t.Errorf("X-Tango-Signature %q, want %q", sig, wantSig)
	}
	if err := webhook.Verify(testSecret, ts, string(d.body), d.header.Get("X-Tango-Signature"), 0); err != nil {
		t.Errorf("Verify of the delivery as sent: %v", err)
	}
	if strings.Contains(fmt.Sprint(d.header), testSecret) || bytes.Contains(d.body, []byte(testSecret)) {
		t.Error("the secret is sent")
	}

	// The body: exactly the documented keys.
	var raw map[string]any
	if err := json.Unmarshal(d.body, &raw); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range raw {
			if !yield(k) {
				return
			}
		}
	})
	if want := []string{"account", "id", "occurred_at", "text", "type"}; !slices.Equal(keys, want) {
		t.Errorf("body keys %q, want %q", keys, want)
	}
	accRaw, _ := raw["account"].(map[string]any)
	if ents, ok := accRaw["entitlements"].([]any); !ok || len(ents) != 0 {
		t.Errorf("account.entitlements = %#v, want []", accRaw["entitlements"])
	}
	var body wireDelivery
	dec := json.NewDecoder(bytes.NewReader(d.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.ID == "" || d.header.Get("X-Tango-Delivery") != body.ID {
		t.Errorf("delivery id %q, header %q", body.ID, d.header.Get("X-Tango-Delivery"))
	}
	if body.Type != "account.disabled" {
		t.Errorf("type %q", body.Type)
	}
	if at, err := time.Parse(time.RFC3339, body.OccurredAt); err != nil || at.Before(start.Truncate(time.Second)) || at.After(time.Now()) {
		t.Errorf("occurred_at %q (%v), want RFC 3339 of the call", body.OccurredAt, err)
	}
	if want := "Tango: disable account jdoe (E123) in crm"; body.Text != want {
		t.Errorf("text %q, want %q", body.Text, want)
	}
	wantAcc := wireAccount{Key: "E123", Name: "jdoe", Attributes: a.Attributes, Entitlements: []string{}, Disabled: true}
	if fmt.Sprint(body.Account) != fmt.Sprint(wantAcc) {
		t.Errorf("account %+v, want %+v", body.Account, wantAcc)
	}

	// The grant names the entitlement.
	var grant wireDelivery
	if err := json.Unmarshal(reqs[1].body, &grant); err != nil {
		t.Fatal(err)
	}
	if grant.Type != "entitlement.granted" || grant.Entitlement != "crm-admins" || grant.Account.Key != "E123" {
		t.Errorf("grant delivery %+v", grant)
	}
	if want := "Tango: grant crm-admins to account jdoe (E123) in crm"; grant.Text != want {
		t.Errorf("grant text %q, want %q", grant.Text, want)
	}
	if grant.ID == body.ID {
		t.Error("two calls share a delivery id")
	}

	// A real receiver refuses the create delivery once tampered with, and
	// accepts it as sent.
	r := startReceiver(t)
	post := func(body []byte) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, r.srv.URL+"/hook", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = reqs[2].header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tampered := bytes.Replace(reqs[2].body, []byte(`"jdoe"`), []byte(`"mallory"`), 1)
	if bytes.Equal(tampered, reqs[2].body) {
		t.Fatal("test did not tamper with the body")
	}
	if err := webhook.Verify(testSecret, reqs[2].header.Get("X-Tango-Timestamp"), string(tampered), reqs[2].header.Get("X-Tango-Signature"), 0); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("Verify of a tampered body: %v, want ErrBadSignature", err)
	}
	if status := post(tampered); status != http.StatusUnauthorized {
		t.Errorf("tampered delivery: %d, want 401", status)
	}
	if _, ok := r.account("E123"); ok {
		t.Error("the tampered delivery was applied")
	}
	if status := post(reqs[2].body); status != http.StatusOK {
		t.Errorf("delivery as sent: %d, want 200", status)
	}
	if acc, ok := r.account("E123"); !ok || acc.Name != "jdoe" {
		t.Errorf("delivery as sent not applied: %+v", acc)
	}
}

func TestVerify(t *testing.T) {
	body := `{"id":"x","type":"account.created"}`
	now := time.Now().Unix()
	ts := strconv.FormatInt(now, 10)
	good := "sha256=" + hmacHex(testSecret, ts+"."+body)
	if got := webhook.Sign(testSecret, ts, body); got != good {
		t.Fatalf("Sign = %q, want %q", got, good)
	}
	if err := webhook.Verify(testSecret, ts, body, good, time.Minute); err != nil {
		t.Fatalf("Verify(good): %v", err)
	}
	old := strconv.FormatInt(now-3600, 10)
	future := strconv.FormatInt(now+3600, 10)
	for _, tc := range []struct {
		name                  string
		secret, ts, body, sig string
		want                  error
	}{
		{"tampered body", testSecret, ts, body + " ", good, webhook.ErrBadSignature},
		{"wrong secret", "other-secret", ts, body, good, webhook.ErrBadSignature},
		{"no secret", "", ts, body, good, webhook.ErrBadSignature},
		{"other timestamp", testSecret, strconv.FormatInt(now-1, 10), body, good, webhook.ErrBadSignature},
		{"no prefix", testSecret, ts, body, strings.TrimPrefix(good, "sha256="), webhook.ErrBadSignature},
		{"not hex", testSecret, ts, body, "sha256=zz" + good[9:], webhook.ErrBadSignature},
		{"short", testSecret, ts, body, good[:len(good)-2], webhook.ErrBadSignature},
		{"timestamp not a number", testSecret, "yesterday", body, good, webhook.ErrBadSignature},
		{"replayed an hour later", testSecret, old, body, "sha256=" + hmacHex(testSecret, old+"."+body), webhook.ErrStale},
		{"from the future", testSecret, future, body, "sha256=" + hmacHex(testSecret, future+"."+body), webhook.ErrStale},
	} {
		if err := webhook.Verify(tc.secret, tc.ts, tc.body, tc.sig, time.Minute); !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
	}
	// The default window (maxSkew 0) is 5 minutes.
	ten := strconv.FormatInt(now-600, 10)
	if err := webhook.Verify(testSecret, ten, body, webhook.Sign(testSecret, ten, body), 0); !errors.Is(err, webhook.ErrStale) {
		t.Errorf("10 minutes old with the default window: %v, want ErrStale", err)
	}
	two := strconv.FormatInt(now-120, 10)
	if err := webhook.Verify(testSecret, two, body, webhook.Sign(testSecret, two, body), 0); err != nil {
		t.Errorf("2 minutes old with the default window: %v", err)
	}
}

func TestSummaryEscapes(t *testing.T) {
	got := webhook.Summary(webhook.EventEntitlementRevoked,
		webhook.Account{Key: "E9", Name: "<!channel>\nhi"}, "R&D", "crm")
	want := "Tango: revoke R&amp;D from account &lt;!channel&gt; hi (E9) in crm"
	if got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

// ------------------------------------------------------------ retries

func TestRetry503SameDelivery(t *testing.T) {
	r := startReceiver(t)
	c := newConnector(t, r.config())
	ctx := context.Background()
	a := newAccount(1)

	// Refused before being applied.
	r.failNext(failure{status: http.StatusServiceUnavailable, body: "try later"})
	from := r.nAttempts()
	created, err := c.Create(ctx, a)
	if err != nil {
		t.Fatalf("Create after one 503: %v", err)
	}
	got := r.attemptsSince(from)
	sameDelivery(t, got, 2, "account.created")
	if acc, ok := r.account(a.Key); !ok || acc.ID != created.ID {
		t.Errorf("receiver holds %+v, Create returned ID %q", acc, created.ID)
	}

	// Applied, then the answer lost (503): the retry is the same delivery,
	// which the receiver recognises and does not apply twice.
	r.failNext(failure{status: http.StatusServiceUnavailable, afterApply: true})
	from = r.nAttempts()
	if err := c.Grant(ctx, created, "crm-admins"); err != nil {
		t.Fatalf("Grant after a lost answer: %v", err)
	}
	got = r.attemptsSince(from)
	sameDelivery(t, got, 2, "entitlement.granted")
	r.mu.Lock()
	applied := r.applied[got[0].Delivery]
	r.mu.Unlock()
	if applied != 2 {
		t.Errorf("receiver recorded the delivery %d times, want 2 (sent twice)", applied)
	}
	if acc, _ := r.account(a.Key); !slices.Equal(acc.Entitlements, []string{"crm-admins"}) {
		t.Errorf("entitlements %q after the duplicate delivery", acc.Entitlements)
	}
}

func TestRetry429RetryAfter(t *testing.T) {
	r := startReceiver(t)
	c := newConnector(t, r.config())
	ctx := context.Background()
	created, err := c.Create(ctx, newAccount(2))
	if err != nil {
		t.Fatal(err)
	}
	r.failNext(failure{status: http.StatusTooManyRequests, retryAfter: "1", body: "slow down"})
	from := r.nAttempts()
	start := time.Now()
	if err := c.Disable(ctx, created); err != nil {
		t.Fatalf("Disable after a 429: %v", err)
	}
	elapsed := time.Since(start)
	sameDelivery(t, r.attemptsSince(from), 2, "account.disabled")
	// Retry-After: 1, not the 20 ms backoff of the configuration.
	if elapsed < 950*time.Millisecond {
		t.Errorf("Disable took %v; Retry-After asked for 1 s", elapsed)
	}
	if acc, _ := r.account(created.Key); !acc.Disabled {
		t.Error("account not disabled after the retry")
	}
}

// A Retry-After longer than MaxRetryWait is not waited for: the caller
// gets it in the TemporaryError.
func TestLongRetryAfterReturned(t *testing.T) {
	r := startReceiver(t)
	cfg := r.config()
	cfg.MaxRetryWait = 5 * time.Second
	c := newConnector(t, cfg)
	r.failNext(failure{status: http.StatusTooManyRequests, retryAfter: "120"})
	start := time.Now()
	_, err := c.Create(context.Background(), newAccount(3))
	var te *connector.TemporaryError
	if !errors.As(err, &te) || te.RetryAfter != 120 {
		t.Fatalf("Create: %v, want a TemporaryError with RetryAfter 120", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Create waited %v", d)
	}
}

func TestPersistent500IsTemporary(t *testing.T) {
	r := startReceiver(t)
	cfg := r.config()
	cfg.MaxRetries = 2
	c := newConnector(t, cfg)
	for range 10 {
		r.failNext(failure{status: http.StatusInternalServerError, body: "database down"})
	}
	from := r.nAttempts()
	err := c.Update(context.Background(), newAccount(4))
	if !connector.IsTemporary(err) {
		t.Fatalf("Update with the receiver failing: %v, want a TemporaryError", err)
	}
	var we *webhook.Error
	if !errors.As(err, &we) || we.Status != http.StatusInternalServerError || we.Text != "database down" {
		t.Errorf("error %v (%+v), want the 500 with its text", err, we)
	}
	got := r.attemptsSince(from)
	sameDelivery(t, got, 3, "account.updated") // MaxRetries 2
	if !strings.Contains(err.Error(), got[0].Delivery) || !strings.Contains(err.Error(), "500") {
		t.Errorf("error should name the delivery and the status: %v", err)
	}
}

func TestUnreachableIsTemporary(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newConnector(t, webhook.Config{URL: "http://" + addr + "/hook/T0001/B0001/xoxsecretpath", Secret: testSecret, MaxRetries: -1})
	err = c.Enable(context.Background(), newAccount(5))
	if !connector.IsTemporary(err) {
		t.Fatalf("connection refused: %v, want a TemporaryError", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, addr) || strings.Contains(msg, testSecret) || strings.Contains(msg, "xoxsecretpath") {
		t.Errorf("error should name the host, not the secret nor the URL's path: %v", err)
	}
}

// ------------------------------------------------------------ permanent

func TestBadRequestIsPermanent(t *testing.T) {
	r := startReceiver(t)
	c := newConnector(t, r.config())
	long := strings.Repeat("x", 1000)
	r.failNext(failure{status: http.StatusBadRequest, body: "invalid payload:\n key " + testSecret + " is not accepted " + long})
	from := r.nAttempts()
	err := c.Update(context.Background(), newAccount(6))
	var we *webhook.Error
	if !errors.As(err, &we) || we.Status != http.StatusBadRequest {
		t.Fatalf("Update refused with 400: %v, want a 400 *webhook.Error", err)
	}
	if connector.IsTemporary(err) {
		t.Errorf("400 reported as temporary: %v", err)
	}
	msg := err.Error()
	if strings.Contains(msg, testSecret) {
		t.Errorf("error contains the secret: %s", msg)
	}
	if want := "invalid payload: key [redacted] is not accepted x"; !strings.HasPrefix(we.Text, want) || !strings.Contains(msg, want) {
		t.Errorf("error text %q (%s), want it to start with %q", we.Text, msg, want)
	}
	if n := utf8.RuneCountInString(we.Text); n > webhook.MaxErrorText+1 {
		t.Errorf("error text of %d runes, want at most %d", n, webhook.MaxErrorText+1)
	}
	sameDelivery(t, r.attemptsSince(from), 1, "account.updated") // not retried

	// A JSON error answer gives its message.
	r.failNext(failure{status: http.StatusUnprocessableEntity, body: `{"error": "unknown attribute title", "code": 17}`})
	err = c.Update(context.Background(), newAccount(6))
	if !errors.As(err, &we) || we.Status != http.StatusUnprocessableEntity || we.Text != "unknown attribute title" {
		t.Errorf("Update refused with a JSON 422: %v (%+v)", err, we)
	}
}

// A redirected POST is not followed (it would become a GET and the change
// be lost): it is refused.
func TestRedirectNotFollowed(t *testing.T) {
	var other int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/moved" {
			other++
			return
		}
		http.Redirect(w, req, "/moved", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	c := newConnector(t, webhook.Config{URL: srv.URL + "/hook", Secret: testSecret})
	err := c.Disable(context.Background(), newAccount(7))
	var we *webhook.Error
	if !errors.As(err, &we) || we.Status != http.StatusFound || connector.IsTemporary(err) {
		t.Errorf("Disable answered 302: %v, want a permanent 302 error", err)
	}
	if other != 0 {
		t.Errorf("the redirect was followed %d times", other)
	}
}

// ------------------------------------------------------------ reads

func TestNoListURLNotReadable(t *testing.T) {
	r := startReceiver(t)
	cfg := r.config()
	cfg.ListURL = ""
	c := newConnector(t, cfg)
	ctx := context.Background()
	if _, err := c.Create(ctx, newAccount(8)); err != nil {
		t.Fatal(err)
	}
	_, err := c.Get(ctx, "E000008")
	if !errors.Is(err, webhook.ErrNotReadable) || errors.Is(err, connector.ErrNotFound) || connector.IsTemporary(err) {
		t.Errorf("Get without ListURL: %v, want ErrNotReadable only", err)
	}
	calls := 0
	err = c.List(ctx, func(connector.Account) error { calls++; return nil })
	if !errors.Is(err, webhook.ErrNotReadable) || errors.Is(err, connector.ErrNotFound) || connector.IsTemporary(err) {
		t.Errorf("List without ListURL: %v, want ErrNotReadable only", err)
	}
	if calls != 0 {
		t.Errorf("List called its callback %d times", calls)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gets != 0 {
		t.Errorf("receiver got %d list requests", r.gets)
	}
}

func TestGet404IsNotFound(t *testing.T) {
	r := startReceiver(t)
	r.get404 = true
	c := newConnector(t, r.config())
	ctx := context.Background()
	_, err := c.Get(ctx, "E404")
	if !errors.Is(err, connector.ErrNotFound) || connector.IsTemporary(err) {
		t.Errorf("Get answered 404: %v, want ErrNotFound", err)
	}
	if _, err := c.Create(ctx, newAccount(9)); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, "E000009"); err != nil || got.Name != "user000009" {
		t.Errorf("Get of an existing account: %+v, %v", got, err)
	}
}

// A list endpoint that ignores ?key= must not make an account look absent
// (reconcile would recreate it), nor one that ignores startIndex loop.
func TestListEndpointIgnoringParameters(t *testing.T) {
	var gets int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		gets++
		if err := webhook.Verify(testSecret, req.Header.Get("X-Tango-Timestamp"), "", req.Header.Get("X-Tango-Signature"), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"accounts": [{"id": "1", "key": "A1", "name": "a", "attributes": {"mail": "a@x", "n": [1, true]}},
			{"id": "2", "key": "A2", "name": "b"}]}`)
	}))
	t.Cleanup(srv.Close)
	c := newConnector(t, webhook.Config{URL: srv.URL, ListURL: srv.URL + "/list?tenant=7", Secret: testSecret, PageSize: 2})
	ctx := context.Background()
	_, err := c.Get(ctx, "B9")
	if err == nil || errors.Is(err, connector.ErrNotFound) {
		t.Errorf("Get from an endpoint ignoring ?key=: %v, want an error other than ErrNotFound", err)
	}
	got, err := c.Get(ctx, "A1")
	if err != nil || got.ID != "1" || !slices.Equal(got.Attributes["mail"], []string{"a@x"}) || !slices.Equal(got.Attributes["n"], []string{"1", "true"}) {
		t.Errorf("Get(A1) = %+v, %v", got, err)
	}
	var keys []string
	err = c.List(ctx, func(a connector.Account) error { keys = append(keys, a.Key); return nil })
	if err == nil || !strings.Contains(err.Error(), "startIndex") {
		t.Errorf("List from an endpoint ignoring startIndex: %v, want an error", err)
	}
	if !slices.Equal(keys, []string{"A1", "A2"}) || gets > 5 {
		t.Errorf("List reported %q after %d requests", keys, gets)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []webhook.Config{
		{Secret: "s"},
		{URL: "ftp://x/hook", Secret: "s"},
		{URL: "http://user:pw@x/hook", Secret: "s"},
		{URL: "http://x/hook"},
		{URL: "http://x/hook", Secret: "s", ListURL: "x/list"},
		{URL: "http://x/hook", Secret: "s", Headers: map[string]string{"X-Tango-Signature": "forged"}},
		{URL: "http://x/hook", Secret: "s", Headers: map[string]string{"content-type": "text/plain"}},
		{URL: "http://x/hook", Secret: "s", Headers: map[string]string{"Bad Name": "v"}},
		{URL: "http://x/hook", Secret: "s", Headers: map[string]string{"X-A": "v\r\nX-B: w"}},
	} {
		if _, err := webhook.FromConfig(cfg); err == nil {
			t.Errorf("FromConfig(%+v) succeeded", cfg)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("New error shows the URL's credentials: %v", err)
		}
	}
	if _, err := webhook.FromConfig(webhook.Config{URL: "https://hooks.example.com/x", Secret: "s", Headers: map[string]string{"Authorization": "Bearer t"}}); err != nil {
		t.Errorf("New with a valid config: %v", err)
	}
}

// account.sessions_revoked: its own type and text, signed like the others;
// a receiver that does not know the account (404) is connector.ErrNotFound,
// not a temporary failure.
func TestRevokeSessionsDelivery(t *testing.T) {
	srv, requests := startCapture(t)
	c := newConnector(t, webhook.Config{URL: srv.URL + "/hook", Secret: testSecret, AppName: "crm"})
	if connector.RevokerOf(c) == nil {
		t.Fatal("the webhook connector offers no session revocation")
	}
	a := connector.Account{Key: "E123", Name: "jdoe"}
	if err := c.RevokeSessions(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	reqs := requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	var d wireDelivery
	if err := json.Unmarshal(reqs[0].body, &d); err != nil {
		t.Fatal(err)
	}
	if d.Type != "account.sessions_revoked" || d.Account.Key != "E123" || d.Entitlement != "" ||
		d.Text != "Tango: end every session and token of account jdoe (E123) in crm" {
		t.Errorf("delivery %+v", d)
	}
	h := reqs[0].header
	if err := webhook.Verify(testSecret, h.Get("X-Tango-Timestamp"), string(reqs[0].body), h.Get("X-Tango-Signature"), 0); err != nil {
		t.Errorf("signature: %v", err)
	}

	r := startReceiver(t) // knows no account: answers 404
	err := newConnector(t, r.config()).RevokeSessions(context.Background(), a)
	if !errors.Is(err, connector.ErrNotFound) || connector.IsTemporary(err) {
		t.Errorf("RevokeSessions of an account the receiver does not know: %v, want connector.ErrNotFound", err)
	}
}

// A list answer may carry each account's last_activity (RFC 3339): it is
// read into the account; a malformed one is an error naming the account
// and the value.
func TestListLastActivity(t *testing.T) {
	body := `{"accounts": [{"id": "1", "key": "A1", "name": "a", "last_activity": "2026-07-16T09:30:15+02:00"}, {"id": "2", "key": "A2", "name": "b"}], "total": 2}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("startIndex") != "1" && req.URL.Query().Get("key") == "" {
			io.WriteString(w, `{"accounts": [], "total": 2}`)
			return
		}
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c := newConnector(t, webhook.Config{URL: srv.URL, ListURL: srv.URL + "/list", Secret: testSecret, PageSize: 10})
	got := map[string]time.Time{}
	if err := c.List(context.Background(), func(a connector.Account) error { got[a.Key] = a.LastActivity; return nil }); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 7, 16, 7, 30, 15, 0, time.UTC); !got["A1"].Equal(want) || !got["A2"].IsZero() {
		t.Fatalf("last activity %v: want A1 at %v, none for A2", got, want)
	}
	body = `{"accounts": [{"id": "1", "key": "A1", "name": "a", "last_activity": "yesterday"}], "total": 1}`
	err := c.List(context.Background(), func(connector.Account) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `"A1"`) || !strings.Contains(err.Error(), `"yesterday"`) {
		t.Fatalf("a malformed last_activity: %v, want an error naming the account and the value", err)
	}
}

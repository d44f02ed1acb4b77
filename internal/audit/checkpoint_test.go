package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

// memChain is a store's audit trail in memory.
type memChain struct {
	es       []Entry
	headSeq  int64
	headHash string
}

func newMem(es []Entry) *memChain {
	m := &memChain{es: es}
	if len(es) > 0 {
		m.headSeq, m.headHash = es[len(es)-1].Seq, es[len(es)-1].Hash
	}
	return m
}

func (m *memChain) AuditHead(context.Context) (int64, string, error) {
	return m.headSeq, m.headHash, nil
}
func (m *memChain) AuditEntries(_ context.Context, after int64, limit int) ([]Entry, error) {
	var out []Entry
	for _, e := range m.es {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

type memSink struct{ got []Checkpoint }

func (s *memSink) Name() string { return "memory" }
func (s *memSink) Write(_ context.Context, c Checkpoint) error {
	s.got = append(s.got, c)
	return nil
}

func testKey(t *testing.T) (ed25519.PrivateKey, ed25519.PublicKey) {
	t.Helper()
	privPEM, pubText, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(string(privPEM))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubText)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(priv.Public()) {
		t.Fatal("the printed public key is not the key file's")
	}
	return priv, pub
}

func TestCheckpointSignatureCoversEveryField(t *testing.T) {
	priv, pub := testKey(t)
	c := Sign(Checkpoint{Seq: 6, Hash: chain(6)[5].Hash, Count: 6, At: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}, priv)
	if err := VerifyCheckpoint(c, pub); err != nil {
		t.Fatalf("a fresh checkpoint: %v", err)
	}
	for name, tamper := range map[string]func(*Checkpoint){
		"seq":   func(c *Checkpoint) { c.Seq = 5 },
		"hash":  func(c *Checkpoint) { c.Hash = chain(5)[4].Hash },
		"count": func(c *Checkpoint) { c.Count = 60 },
		"time":  func(c *Checkpoint) { c.At = c.At.Add(time.Second) },
		"signature": func(c *Checkpoint) { // a different first character (the key is random: it may be "A")
			first := "A"
			if c.Signature[0] == 'A' {
				first = "B"
			}
			c.Signature = first + c.Signature[1:]
		},
		"garbage": func(c *Checkpoint) { c.Signature = "not base64!" },
	} {
		bad := c
		tamper(&bad)
		if err := VerifyCheckpoint(bad, pub); !errors.Is(err, ErrBadSignature) {
			t.Errorf("checkpoint with its %s tampered: %v, want ErrBadSignature", name, err)
		}
	}
	// Signed by another key (and relabelled with ours): refused.
	other, _ := testKey(t)
	forged := Sign(Checkpoint{Seq: 1, Hash: Genesis, Count: 1, At: c.At}, other)
	if err := VerifyCheckpoint(forged, pub); err == nil || !strings.Contains(err.Error(), "not the configured public key") {
		t.Errorf("a checkpoint of another key: %v", err)
	}
	forged.KeyID = c.KeyID
	if err := VerifyCheckpoint(forged, pub); !errors.Is(err, ErrBadSignature) {
		t.Errorf("another key's checkpoint under our key ID: %v", err)
	}
}

func TestKeyParsingRefusesOtherInputWithoutQuotingIt(t *testing.T) {
	for _, s := range []string{"", "secret-looking-value", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"} {
		_, err := ParsePrivateKey(s)
		if err == nil {
			t.Errorf("ParsePrivateKey(%q): no error", s)
		} else if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("ParsePrivateKey error quotes the key: %v", err)
		}
	}
	for _, s := range []string{"ed25519:", "ed25519:AAAA", "rsa:abc"} {
		if _, err := ParsePublicKey(s); err == nil {
			t.Errorf("ParsePublicKey(%q): no error", s)
		}
	}
	for _, s := range []string{"", "12", "x:" + Genesis, "3:abc", "-1:" + Genesis} {
		if _, _, err := ParseHead(s); err == nil {
			t.Errorf("ParseHead(%q): no error", s)
		}
	}
	if seq, h, err := ParseHead("6:" + strings.ToUpper(chain(6)[5].Hash)); err != nil || seq != 6 || h != chain(6)[5].Hash {
		t.Errorf("ParseHead: %d %s %v", seq, h, err)
	}
}

func TestCheckpointerSignsOnlyAVerifiedHead(t *testing.T) {
	priv, pub := testKey(t)
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	m := newMem(chain(4))
	sink := &memSink{}
	cpr, err := NewCheckpointer(m, priv, func() time.Time { return at }, sink)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cpr.Checkpoint(context.Background())
	if err != nil || c.Seq != 4 || c.Hash != m.headHash || c.Count != 4 || len(sink.got) != 1 {
		t.Fatalf("checkpoint: %+v %v, sink %d", c, err, len(sink.got))
	}
	if err := VerifyCheckpoint(sink.got[0], pub); err != nil {
		t.Fatal(err)
	}
	// More entries: the next checkpoint verifies only them and counts all.
	m2 := newMem(chain(6))
	m.es, m.headSeq, m.headHash = m2.es, m2.headSeq, m2.headHash
	if c, err = cpr.Checkpoint(context.Background()); err != nil || c.Seq != 6 || c.Count != 6 {
		t.Fatalf("second checkpoint: %+v %v", c, err)
	}
	// A broken new entry is not signed.
	bad := newMem(chain(8))
	bad.es[6].Actor = "mallory"
	m.es, m.headSeq, m.headHash = bad.es, bad.headSeq, bad.headHash
	if _, err = cpr.Checkpoint(context.Background()); err == nil || !strings.Contains(err.Error(), "audit entry 7") {
		t.Fatalf("a broken chain was signed or the error does not name entry 7: %v", err)
	}
	if len(sink.got) != 2 {
		t.Fatalf("sink got %d checkpoints, want 2", len(sink.got))
	}
	// An empty trail gets a checkpoint of the genesis.
	cpr, _ = NewCheckpointer(newMem(nil), priv, func() time.Time { return at })
	if cpr != nil {
		t.Fatal("a checkpointer without a sink was made")
	}
	cpr, _ = NewCheckpointer(newMem(nil), priv, func() time.Time { return at }, sink)
	if c, err = cpr.Checkpoint(context.Background()); err != nil || c.Seq != 0 || c.Hash != Genesis {
		t.Fatalf("empty trail: %+v %v", c, err)
	}
}

func TestVerifyTrailAgainstCheckpoints(t *testing.T) {
	ctx := context.Background()
	full := chain(6)
	at4 := Expectation{Seq: 4, Hash: full[3].Hash, Count: 4, What: "checkpoint A"}
	at6 := Expectation{Seq: 6, Hash: full[5].Hash, Count: 6, What: "checkpoint B"}
	r, brk, err := VerifyTrail(ctx, newMem(chain(6)), []Expectation{at4, at6})
	if err != nil || brk != nil || !r.Intact || r.Checked != 6 || r.Expectations != 2 {
		t.Fatalf("intact trail: %+v %v %v", r, brk, err)
	}
	// Everything deleted and the head reset: the chain alone is "intact".
	if _, brk, _ := VerifyTrail(ctx, newMem(nil), nil); brk != nil {
		t.Fatalf("empty trail without checkpoints: %v", brk)
	}
	_, brk, _ = VerifyTrail(ctx, newMem(nil), []Expectation{at4, at6})
	if brk == nil || brk.Seq != 1 || !strings.Contains(brk.Reason, "the trail ends at seq 0 but checkpoint B signed seq 6") {
		t.Fatalf("deleted trail: %v", brk)
	}
	// The last two cut off, head reset consistently.
	_, brk, _ = VerifyTrail(ctx, newMem(chain(4)), []Expectation{at4, at6})
	if brk == nil || brk.Seq != 5 || !strings.Contains(brk.Reason, "ends at seq 4") {
		t.Fatalf("truncated trail: %v", brk)
	}
	// Entry 4 rewritten and the chain recomputed: consistent in itself.
	rw := chain(6)
	rw[3].Actor = "mallory"
	Chain(rw, 0, "")
	if _, brk, _ := VerifyTrail(ctx, newMem(rw), nil); brk != nil {
		t.Fatalf("the recomputed chain should be consistent by itself: %v", brk)
	}
	_, brk, _ = VerifyTrail(ctx, newMem(rw), []Expectation{at6, at4})
	if brk == nil || brk.Seq != 4 || !strings.Contains(brk.Reason, "entry seq 4 differs from the checkpointed hash") {
		t.Fatalf("rewritten trail: %v", brk)
	}
	// A count larger than the trail (entries removed and renumbered).
	_, brk, _ = VerifyTrail(ctx, newMem(chain(6)), []Expectation{{Seq: 6, Hash: full[5].Hash, Count: 9, What: "checkpoint C"}})
	if brk == nil || !strings.Contains(brk.Reason, "counted 9") {
		t.Fatalf("count: %v", brk)
	}
	// A wrong expected head.
	_, brk, _ = VerifyTrail(ctx, newMem(chain(6)), []Expectation{{Seq: 5, Hash: full[3].Hash, What: "the expected head"}})
	if brk == nil || brk.Seq != 5 {
		t.Fatalf("wrong head: %v", brk)
	}
}

// A chain rewritten consistently in the database is never signed over:
// the first checkpoint compares it with the checkpoints signed before.
func TestCheckpointerRefusesAChainThatDiffersFromEarlierCheckpoints(t *testing.T) {
	priv, _ := testKey(t)
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	earlier := []Expectation{FromCheckpoint(Sign(Checkpoint{Seq: 4, Hash: chain(6)[3].Hash, Count: 4, At: at}, priv))}
	rw := chain(6)
	rw[2].Actor = "mallory"
	Chain(rw, 0, "")
	sink := &memSink{}
	cpr, _ := NewCheckpointer(newMem(rw), priv, func() time.Time { return at }, sink)
	cpr.CompareWith(func() ([]Expectation, error) { return earlier, nil })
	if _, err := cpr.Checkpoint(context.Background()); err == nil || !strings.Contains(err.Error(), "entry seq 4 differs from the checkpointed hash") || len(sink.got) != 0 {
		t.Fatalf("signed over a rewritten chain: %v, %d written", err, len(sink.got))
	}
	cpr.CompareWith(func() ([]Expectation, error) {
		return nil, errors.New("checkpoint file x line 2: signature does not verify")
	})
	if _, err := cpr.Checkpoint(context.Background()); err == nil || !strings.Contains(err.Error(), "line 2") || len(sink.got) != 0 {
		t.Fatalf("signed although the earlier checkpoints are unreadable: %v", err)
	}
	// The intact chain is signed.
	cpr, _ = NewCheckpointer(newMem(chain(6)), priv, func() time.Time { return at }, sink)
	cpr.CompareWith(func() ([]Expectation, error) { return earlier, nil })
	if c, err := cpr.Checkpoint(context.Background()); err != nil || c.Seq != 6 || len(sink.got) != 1 {
		t.Fatalf("intact chain: %+v %v", c, err)
	}
}

// appending is a chain that gains an entry right after its head is read,
// as a busy server's does.
type appending struct {
	*memChain
	full  []Entry
	reads int
}

func (a *appending) AuditHead(ctx context.Context) (int64, string, error) {
	seq, hash, err := a.memChain.AuditHead(ctx)
	if a.reads++; a.reads == 1 {
		a.memChain.es = a.full
		a.headSeq, a.headHash = a.full[len(a.full)-1].Seq, a.full[len(a.full)-1].Hash
	}
	return seq, hash, err
}

func TestVerifyTrailBeyondTheHead(t *testing.T) {
	ctx := context.Background()
	// Appends made while the chain is read are not a break.
	if r, brk, err := VerifyTrail(ctx, &appending{memChain: newMem(chain(4)), full: chain(6)}, nil); err != nil || brk != nil || r.Checked != 4 {
		t.Fatalf("a chain growing while verified: %+v %v %v", r, brk, err)
	}
	// Entries beyond a head that does not move are.
	m := newMem(chain(6))
	m.headSeq, m.headHash = 4, m.es[3].Hash
	if _, brk, _ := VerifyTrail(ctx, m, nil); brk == nil || brk.Seq != 5 || !strings.Contains(brk.Reason, "beyond the recorded head 4") {
		t.Fatalf("entries beyond the head: %v", brk)
	}
}

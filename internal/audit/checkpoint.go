package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A Checkpoint is a signed statement of the chain's head at a time: the
// entry with sequence Seq had hash Hash and the chain held Count entries.
// It is kept outside the database (see the sinks in audit/checkpoint), so
// that whoever can write the database can neither remove entries nor
// recompute a consistent chain without `tango audit verify` noticing.
type Checkpoint struct {
	Seq   int64     `json:"seq"`
	Hash  string    `json:"hash"`
	Count int64     `json:"count"`
	At    time.Time `json:"time"`
	KeyID string    `json:"key_id"`
	// Signature is the ed25519 signature of SignedBytes, base64 (standard).
	Signature string `json:"signature"`
}

// DefaultCheckpointEvery is how often `tango serve` signs a checkpoint
// unless configured.
const DefaultCheckpointEvery = 15 * time.Minute

// SignedBytes is what the signature covers: every field but the
// signature, one per line, after a version line.
func (c Checkpoint) SignedBytes() []byte {
	return []byte("tango-audit-checkpoint-v1\n" +
		strconv.FormatInt(c.Seq, 10) + "\n" +
		c.Hash + "\n" +
		strconv.FormatInt(c.Count, 10) + "\n" +
		c.At.UTC().Format(time.RFC3339Nano) + "\n" +
		c.KeyID + "\n")
}

// KeyID names a public key: the first 16 hex digits of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

// Sign fills c's KeyID and Signature with key.
func Sign(c Checkpoint, key ed25519.PrivateKey) Checkpoint {
	c.At = c.At.UTC()
	c.KeyID = KeyID(key.Public().(ed25519.PublicKey))
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.SignedBytes()))
	return c
}

// ErrBadSignature is what VerifyCheckpoint returns for a checkpoint that
// was not signed by the key, or was altered after signing.
var ErrBadSignature = errors.New("signature does not verify")

// VerifyCheckpoint checks c's signature with pub.
func VerifyCheckpoint(c Checkpoint, pub ed25519.PublicKey) error {
	if want := KeyID(pub); c.KeyID != want {
		return fmt.Errorf("signed by key %q, not the configured public key %q", c.KeyID, want)
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, c.SignedBytes(), sig) {
		return fmt.Errorf("%w with key %q (checkpoint altered or forged)", ErrBadSignature, c.KeyID)
	}
	return nil
}

// GenerateKey makes a new signing key: the private key as a PEM PKCS #8
// document (the key file) and the public key as FormatPublicKey writes it.
func GenerateKey() (privatePEM []byte, public string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, "", err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), FormatPublicKey(pub), nil
}

// FormatPublicKey writes pub as "ed25519:" and its base64 (standard).
func FormatPublicKey(pub ed25519.PublicKey) string {
	return "ed25519:" + base64.StdEncoding.EncodeToString(pub)
}

// ParsePrivateKey reads a PEM PKCS #8 ed25519 private key (what `tango
// audit keygen` writes, or `openssl genpkey -algorithm ed25519`). Its
// errors never quote the key.
func ParsePrivateKey(s string) (ed25519.PrivateKey, error) {
	b, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM \"PRIVATE KEY\" (give the key itself, e.g. ${file:PATH} of a file written by `tango audit keygen`)")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, errors.New("the PEM block is not a PKCS #8 private key")
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, want an ed25519 key", k)
	}
	return priv, nil
}

// ParsePublicKey reads "ed25519:BASE64" (what `tango audit keygen`
// prints) or a PEM "PUBLIC KEY" holding an ed25519 key.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "ed25519:"); ok {
		b, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("public key %q: want ed25519: and the base64 of %d bytes", s, ed25519.PublicKeySize)
		}
		return ed25519.PublicKey(b), nil
	}
	if b, _ := pem.Decode([]byte(s)); b != nil && b.Type == "PUBLIC KEY" {
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %v", err)
		}
		if pub, ok := k.(ed25519.PublicKey); ok {
			return pub, nil
		}
		return nil, fmt.Errorf("public key: a %T, want an ed25519 key", k)
	}
	return nil, fmt.Errorf("public key %q: want ed25519:BASE64 (as `tango audit keygen` prints) or a PEM PUBLIC KEY", s)
}

// ParseHead reads SEQ:HASH, as `tango audit verify --expect-head` takes it.
func ParseHead(s string) (int64, string, error) {
	seqText, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || err != nil || seq < 0 {
		return 0, "", fmt.Errorf("head %q: want SEQ:HASH, such as 42:%s", s, Genesis[:8]+"…")
	}
	hash = strings.ToLower(hash)
	if len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
		return 0, "", fmt.Errorf("head %q: the hash must be 64 hex digits (SHA-256)", s)
	}
	return seq, hash, nil
}

// Reader is what checkpoints and verification read of the store.
type Reader interface {
	// AuditHead returns the sequence number and hash the store recorded for the last entry.
	AuditHead(ctx context.Context) (int64, string, error)
	// AuditEntries returns entries with Seq > after, in order, at most limit.
	AuditEntries(ctx context.Context, after int64, limit int) ([]Entry, error)
}

// A Sink keeps checkpoints outside the database.
type Sink interface {
	// Name says where the sink writes, without secrets (for errors and logs).
	Name() string
	Write(ctx context.Context, c Checkpoint) error
}

// Checkpointer signs checkpoints of a chain's head and writes them to its
// sinks. It never signs a head it has not verified: the first checkpoint
// verifies the whole chain, each later one the entries added since.
type Checkpointer struct {
	chain Reader
	key   ed25519.PrivateKey
	sinks []Sink
	now   func() time.Time

	// prior reads the checkpoints signed before (nil: none to compare).
	prior func() ([]Expectation, error)

	mu          sync.Mutex
	priorPassed bool
	seq         int64 // the head verified so far
	hash        string
	n           int64
}

// CompareWith makes the first checkpoint compare the chain with the
// checkpoints signed before (read by prior) and refuse to sign when it
// differs from them: a chain rewritten consistently in the database is
// never signed over. A failure of prior fails that checkpoint.
func (c *Checkpointer) CompareWith(prior func() ([]Expectation, error)) { c.prior = prior }

// NewCheckpointer signs with key and writes to every sink (at least one).
func NewCheckpointer(chain Reader, key ed25519.PrivateKey, now func() time.Time, sinks ...Sink) (*Checkpointer, error) {
	if chain == nil || len(key) != ed25519.PrivateKeySize || now == nil {
		return nil, errors.New("audit checkpoints: a chain, an ed25519 key and a clock are required")
	}
	if len(sinks) == 0 {
		return nil, errors.New("audit checkpoints: no sink configured (audit.checkpoint.sink.file or .webhook)")
	}
	return &Checkpointer{chain: chain, key: key, sinks: sinks, now: now, hash: Genesis}, nil
}

// pageSize is how many entries a verification reads at once.
const pageSize = 5000

// Checkpoint verifies the chain up to the store's head, signs a
// checkpoint of it and writes it to every sink. A broken chain is not
// signed: the error names its first broken entry.
func (c *Checkpointer) Checkpoint(ctx context.Context) (Checkpoint, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.prior != nil && !c.priorPassed {
		exps, err := c.prior()
		if err != nil {
			return Checkpoint{}, fmt.Errorf("the checkpoints signed before: %w", err)
		}
		_, brk, err := VerifyTrail(ctx, c.chain, exps)
		if err != nil {
			return Checkpoint{}, err
		}
		if brk != nil {
			return Checkpoint{}, fmt.Errorf("not signing a broken audit trail: %w", brk)
		}
		c.priorPassed = true
	}
	headSeq, headHash, err := c.chain.AuditHead(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	v := &Verifier{seq: c.seq, hash: c.hash}
	if headSeq < c.seq {
		return Checkpoint{}, fmt.Errorf("audit trail: the recorded head went back from entry %d (checkpointed) to %d", c.seq, headSeq)
	}
	for after := c.seq; after < headSeq; {
		page, err := c.chain.AuditEntries(ctx, after, pageSize)
		if err != nil {
			return Checkpoint{}, err
		}
		if len(page) == 0 {
			break
		}
		for i, e := range page { // entries written after the head was read wait for the next checkpoint
			if e.Seq > headSeq {
				page = page[:i]
				break
			}
		}
		if brk := v.Next(page); brk != nil {
			return Checkpoint{}, fmt.Errorf("not signing a broken audit trail: %w", brk)
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].Seq
	}
	if brk := v.Finish(headSeq, headHash); brk != nil {
		return Checkpoint{}, fmt.Errorf("not signing a broken audit trail: %w", brk)
	}
	if headSeq == 0 {
		headHash = Genesis
	}
	cp := Sign(Checkpoint{Seq: headSeq, Hash: headHash, Count: c.n + v.Checked, At: c.now().UTC().Truncate(time.Microsecond)}, c.key)
	var errs []error
	for _, s := range c.sinks {
		if err := s.Write(ctx, cp); err != nil {
			errs = append(errs, fmt.Errorf("audit checkpoint to %s: %w", s.Name(), err))
		}
	}
	c.seq, c.hash, c.n = headSeq, headHash, c.n+v.Checked
	return cp, errors.Join(errs...)
}

// Package audit defines Tango's append-only, hash-chained audit entries and
// verifies a chain. Each entry's hash covers its content and the previous
// entry's hash, so altering, removing or reordering any entry breaks every
// hash after it; the store also records the head (last sequence and hash),
// which catches removal of entries at the end.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Genesis is the PrevHash of the first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Entry is one audit record. Before and After are JSON documents kept
// byte-for-byte as written, since the hash covers their bytes.
type Entry struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Source   string          `json:"source,omitempty"`
	ImportID string          `json:"import_id,omitempty"`
	Subject  string          `json:"subject,omitempty"`
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// New builds an entry; the time is truncated to microseconds, the precision
// every store keeps. Values that do not marshal become a JSON error string.
func New(at time.Time, actor, action, source, importID, subject string, before, after any) Entry {
	return Entry{
		At: at.UTC().Truncate(time.Microsecond), Actor: actor, Action: action,
		Source: source, ImportID: importID, Subject: subject,
		Before: marshal(before), After: marshal(after),
	}
}

func marshal(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"marshal_error": err.Error()})
	}
	if string(b) == "null" {
		return nil
	}
	return b
}

// Sum computes the hash of e chained to prev. Fields are length-prefixed so
// that no two different entries encode to the same bytes.
func Sum(e Entry, prev string) string {
	h := sha256.New()
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(e.At.UTC().UnixMicro()))
	h.Write(n[:])
	field([]byte(prev))
	field([]byte(e.Actor))
	field([]byte(e.Action))
	field([]byte(e.Source))
	field([]byte(e.ImportID))
	field([]byte(e.Subject))
	field(e.Before)
	field(e.After)
	return hex.EncodeToString(h.Sum(nil))
}

// Chain links entries onto a chain whose last entry has sequence lastSeq
// and hash lastHash, filling Seq, PrevHash and Hash in place. It returns
// the new head.
func Chain(entries []Entry, lastSeq int64, lastHash string) (int64, string) {
	if lastHash == "" {
		lastHash = Genesis
	}
	for i := range entries {
		lastSeq++
		entries[i].Seq = lastSeq
		entries[i].At = entries[i].At.UTC().Truncate(time.Microsecond)
		entries[i].PrevHash = lastHash
		entries[i].Hash = Sum(entries[i], lastHash)
		lastHash = entries[i].Hash
	}
	return lastSeq, lastHash
}

// Break describes the first place a chain is broken.
type Break struct {
	Seq    int64  // sequence number of the first broken entry (or the expected one, if missing)
	Reason string // what is wrong with it
}

func (b *Break) Error() string { return fmt.Sprintf("audit entry %d: %s", b.Seq, b.Reason) }

// Verifier checks a chain fed to it in sequence order, page by page.
type Verifier struct {
	seq     int64
	hash    string
	Checked int64
}

// NewVerifier starts at the genesis of the chain.
func NewVerifier() *Verifier { return &Verifier{hash: Genesis} }

// ResumeVerifier goes on from an entry already verified: seq and its hash.
func ResumeVerifier(seq int64, hash string) *Verifier { return &Verifier{seq: seq, hash: hash} }

// Head is the last entry verified: its seq and hash.
func (v *Verifier) Head() (int64, string) { return v.seq, v.hash }

// Next checks the next page of entries; it returns the first break found.
func (v *Verifier) Next(entries []Entry) *Break {
	for _, e := range entries {
		want := v.seq + 1
		switch {
		case e.Seq > want:
			return &Break{Seq: want, Reason: fmt.Sprintf("missing: the chain jumps from entry %d to %d", v.seq, e.Seq)}
		case e.Seq < want:
			return &Break{Seq: e.Seq, Reason: fmt.Sprintf("out of order: found after entry %d", v.seq)}
		case e.PrevHash != v.hash:
			return &Break{Seq: e.Seq, Reason: "previous-hash link does not match the entry before it (entry removed, inserted or reordered)"}
		case Sum(e, v.hash) != e.Hash:
			return &Break{Seq: e.Seq, Reason: "content does not match its hash (entry altered)"}
		}
		v.seq, v.hash = e.Seq, e.Hash
		v.Checked++
	}
	return nil
}

// Finish compares the verified chain with the head the store recorded.
func (v *Verifier) Finish(headSeq int64, headHash string) *Break {
	if headSeq == 0 && v.seq == 0 {
		return nil
	}
	if headSeq != v.seq {
		if headSeq > v.seq {
			return &Break{Seq: v.seq + 1, Reason: fmt.Sprintf("missing: the recorded head is entry %d but the chain ends at %d", headSeq, v.seq)}
		}
		return &Break{Seq: headSeq + 1, Reason: fmt.Sprintf("entries after the recorded head %d", headSeq)}
	}
	if headHash != v.hash {
		return &Break{Seq: v.seq, Reason: "last entry does not match the recorded head hash"}
	}
	return nil
}

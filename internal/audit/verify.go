package audit

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// An Expectation is a head the chain must still hold: the entry with
// sequence Seq has hash Hash, and the chain has at least Count entries.
// It comes from a signed checkpoint (whose signature the caller has
// checked) or from an auditor's note (`--expect-head SEQ:HASH`).
type Expectation struct {
	Seq   int64
	Hash  string
	Count int64
	// What names it in messages: "checkpoint of 2026-12-05T10:15:00Z"
	// or "the expected head".
	What string
}

// FromCheckpoint is the expectation a (verified) checkpoint sets.
func FromCheckpoint(c Checkpoint) Expectation {
	return Expectation{Seq: c.Seq, Hash: c.Hash, Count: c.Count,
		What: fmt.Sprintf("checkpoint of %s (key %s)", c.At.UTC().Format(time.RFC3339), c.KeyID)}
}

// Report is the outcome of VerifyTrail.
type Report struct {
	Intact bool `json:"intact"`
	// Checked is how many entries were verified (before the first break).
	Checked int64 `json:"checked"`
	// Expectations is how many checkpoints or expected heads were compared.
	Expectations int `json:"expectations_checked"`
	// Broken is the first broken entry (0 when intact) and Reason what is wrong.
	Broken int64  `json:"first_broken,omitempty"`
	Reason string `json:"reason,omitempty"`
	// HeadSeq and HeadHash are the last entry verified: where a check of
	// only the entries appended since may resume (audit.ResumeVerifier).
	HeadSeq  int64  `json:"-"`
	HeadHash string `json:"-"`
}

// VerifyTrail walks the whole chain from its genesis, checking every
// link, every entry an expectation names and, at the end, the head the
// store recorded and that no expectation lies beyond the chain's end.
// The Break it returns is the first broken entry; err is a failure to read.
func VerifyTrail(ctx context.Context, chain Reader, expect []Expectation) (Report, *Break, error) {
	at := map[int64][]Expectation{}
	var last *Expectation // the one furthest along
	for i := range expect {
		e := &expect[i]
		at[e.Seq] = append(at[e.Seq], *e)
		if last == nil || e.Seq > last.Seq || (e.Seq == last.Seq && e.Count > last.Count) {
			last = e
		}
	}
	r := Report{Expectations: len(expect)}
	v := NewVerifier()
	done := func(brk *Break) (Report, *Break, error) {
		r.Checked = v.Checked
		r.HeadSeq, r.HeadHash = v.Head()
		if brk != nil {
			r.Broken, r.Reason = brk.Seq, brk.Reason
		}
		r.Intact = brk == nil
		return r, brk, nil
	}
	// An expectation at 0 is the empty chain: its hash is the genesis.
	for _, e := range at[0] {
		if e.Hash != Genesis {
			return done(&Break{Seq: 1, Reason: fmt.Sprintf("%s names entry 0 with a hash other than the genesis", e.What)})
		}
	}
	// The head first: entries appended while the chain is read are not
	// this verification's (they would look like entries beyond the head).
	headSeq, headHash, err := chain.AuditHead(ctx)
	if err != nil {
		return r, nil, err
	}
	var matched *Expectation // the furthest expectation the chain still matches
walk:
	for after := int64(0); ; {
		page, err := chain.AuditEntries(ctx, after, pageSize)
		if err != nil {
			return r, nil, err
		}
		if len(page) == 0 {
			break
		}
		for i := range page {
			if page[i].Seq > headSeq {
				break walk // written after the head was read, or beyond the head: see below
			}
			if brk := v.Next(page[i : i+1]); brk != nil {
				return done(brk)
			}
			for _, e := range at[page[i].Seq] {
				if e.Hash != page[i].Hash {
					reason := fmt.Sprintf("entry seq %d differs from the checkpointed hash (%s signed %s…, the trail has %s…)",
						e.Seq, e.What, short(e.Hash), short(page[i].Hash))
					if matched != nil {
						reason += fmt.Sprintf("; entries up to seq %d still match %s", matched.Seq, matched.What)
					}
					return done(&Break{Seq: e.Seq, Reason: reason})
				}
				matched = &e
			}
		}
		after = page[len(page)-1].Seq
	}
	if last != nil && last.Seq > v.seq {
		return done(&Break{Seq: v.seq + 1, Reason: fmt.Sprintf("truncated: the trail ends at seq %d but %s signed seq %d", v.seq, last.What, last.Seq)})
	}
	counts := append([]Expectation(nil), expect...)
	sort.Slice(counts, func(i, j int) bool { return counts[i].Count > counts[j].Count })
	if len(counts) > 0 && counts[0].Count > v.Checked {
		return done(&Break{Seq: v.seq + 1, Reason: fmt.Sprintf("truncated: the trail holds %d entries but %s counted %d", v.Checked, counts[0].What, counts[0].Count)})
	}
	if brk := v.Finish(headSeq, headHash); brk != nil {
		return done(brk)
	}
	// Entries beyond the head read first are appends made since, unless
	// the head, read again, still does not reach them.
	more, err := chain.AuditEntries(ctx, headSeq, 1)
	if err != nil {
		return r, nil, err
	}
	if len(more) > 0 {
		now, _, err := chain.AuditHead(ctx)
		if err != nil {
			return r, nil, err
		}
		if now < more[0].Seq {
			return done(&Break{Seq: more[0].Seq, Reason: fmt.Sprintf("beyond the recorded head %d", now)})
		}
	}
	return done(nil)
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

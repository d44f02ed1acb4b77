package audit

import (
	"testing"
	"time"
)

func chain(n int) []Entry {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var es []Entry
	for i := range n {
		es = append(es, New(t0.Add(time.Duration(i)*time.Second), "hr", "hr.joiner", "hris", "imp_1", "E"+string(rune('A'+i)), nil, map[string]int{"i": i}))
	}
	Chain(es, 0, "")
	return es
}

func TestVerifyFindsFirstBrokenEntry(t *testing.T) {
	es := chain(6)
	v := NewVerifier()
	if b := v.Next(es); b != nil {
		t.Fatalf("intact chain: %v", b)
	}
	if b := v.Finish(6, es[5].Hash); b != nil || v.Checked != 6 {
		t.Fatalf("finish: %v, %d checked", b, v.Checked)
	}
	cases := []struct {
		name   string
		mutate func([]Entry) []Entry
		want   int64
	}{
		{"actor altered", func(e []Entry) []Entry { e[2].Actor = "mallory"; return e }, 3},
		{"document altered", func(e []Entry) []Entry { e[4].After = []byte(`{"i":40}`); return e }, 5},
		{"time altered", func(e []Entry) []Entry { e[1].At = e[1].At.Add(time.Microsecond); return e }, 2},
		{"removed", func(e []Entry) []Entry { return append(e[:3:3], e[4:]...) }, 4},
		{"swapped", func(e []Entry) []Entry { e[1], e[2] = e[2], e[1]; return e }, 2},
		{"rehashed after an edit", func(e []Entry) []Entry {
			e[3].Actor = "mallory"
			e[3].Hash = Sum(e[3], e[3].PrevHash) // consistent by itself, but the next link breaks
			return e
		}, 5},
	}
	for _, c := range cases {
		es := c.mutate(chain(6))
		v := NewVerifier()
		b := v.Next(es)
		if b == nil {
			b = v.Finish(6, chain(6)[5].Hash)
		}
		if b == nil || b.Seq != c.want {
			t.Errorf("%s: got %v, want first broken entry %d", c.name, b, c.want)
		}
	}
	// truncation: the chain itself is intact, the head says more
	v = NewVerifier()
	v.Next(chain(6)[:4])
	if b := v.Finish(6, chain(6)[5].Hash); b == nil || b.Seq != 5 {
		t.Fatalf("truncation: %v", b)
	}
}

func TestSumSeparatesFields(t *testing.T) {
	a := Entry{Seq: 1, Actor: "ab", Action: "c"}
	b := Entry{Seq: 1, Actor: "a", Action: "bc"}
	if Sum(a, Genesis) == Sum(b, Genesis) {
		t.Fatal("field boundaries are not part of the hash")
	}
}

package checkpoint

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/audit"
)

func key(t testing.TB) (ed25519.PrivateKey, ed25519.PublicKey) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func cp(priv ed25519.PrivateKey, seq int64) audit.Checkpoint {
	return audit.Sign(audit.Checkpoint{Seq: seq, Hash: strings.Repeat("ab", 32), Count: seq, At: time.Date(2026, 12, 5, 10, int(seq), 0, 0, time.UTC)}, priv)
}

func TestFileAppendsAndReadsBackVerified(t *testing.T) {
	priv, pub := key(t)
	path := filepath.Join(t.TempDir(), "cp.jsonl")
	f := File{Path: path}
	for seq := range int64(3) {
		if err := f.Write(context.Background(), cp(priv, seq+1)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadFile(path, pub)
	if err != nil || len(got) != 3 || got[2].Seq != 3 {
		t.Fatalf("read back: %+v %v", got, err)
	}
	// One line altered: the file is refused, naming the line.
	b, _ := os.ReadFile(path)
	lines := strings.Split(string(b), "\n")
	lines[1] = strings.Replace(lines[1], `"seq":2`, `"seq":20`, 1)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path, pub); !errors.Is(err, audit.ErrBadSignature) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("tampered line: %v", err)
	}
	// Another key's file.
	_, other := key(t)
	if _, err := Read(strings.NewReader(lines[0]), "x", other); err == nil {
		t.Fatal("a checkpoint of another key was accepted")
	}
	if _, err := Read(strings.NewReader(`{"seq":1,"extra":true}`), "x", pub); err == nil || !strings.Contains(err.Error(), "x line 1") {
		t.Fatalf("unknown field: %v", err)
	}
	if _, err := Read(strings.NewReader(strings.Repeat("a", MaxLine+1)), "x", pub); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("long line: %v", err)
	}
}

func TestWebhookPostsTheCheckpointAndHidesItsURL(t *testing.T) {
	priv, pub := key(t)
	var got audit.Checkpoint
	status := http.StatusNoContent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &got) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	hook := Webhook{URL: srv.URL + "/hook?token=s3cret"}
	if err := hook.Write(context.Background(), cp(priv, 7)); err != nil {
		t.Fatal(err)
	}
	if got.Seq != 7 || audit.VerifyCheckpoint(got, pub) != nil {
		t.Fatalf("posted %+v", got)
	}
	if strings.Contains(hook.Name(), "s3cret") {
		t.Fatalf("name shows the secret: %s", hook.Name())
	}
	status = http.StatusForbidden
	if err := hook.Write(context.Background(), cp(priv, 8)); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("a refusal: %v", err)
	}
	srv.Close()
	err := Webhook{URL: srv.URL + "/hook?token=s3cret"}.Write(context.Background(), cp(priv, 9))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("a closed server: %v (must fail without the secret)", err)
	}
}

// Read is given files from outside: whatever it reads, it never panics,
// and it accepts only lines that verify.
func FuzzRead(f *testing.F) {
	priv, pub := key(f)
	good, _ := json.Marshal(cp(priv, 1))
	f.Add(good)
	f.Add([]byte("{}\n"))
	f.Add([]byte(`{"seq":-1,"hash":"","count":0,"time":"2026-01-01T00:00:00Z","key_id":"x","signature":"AAAA"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cps, err := Read(bytes.NewReader(b), "fuzz", pub)
		if err != nil {
			return
		}
		for _, c := range cps {
			if audit.VerifyCheckpoint(c, pub) != nil {
				t.Fatalf("accepted an unverified checkpoint %+v", c)
			}
		}
	})
}

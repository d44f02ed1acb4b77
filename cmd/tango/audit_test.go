package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/audit"
)

// auditFixture is a database with a few audit entries, a signing key and
// a config naming it and a checkpoint file.
type auditFixture struct {
	dir, db, dbPath, cfg, checkpoints, pub string
}

func newAuditFixture(t *testing.T) auditFixture {
	t.Helper()
	dir := t.TempDir()
	f := auditFixture{dir: dir, dbPath: filepath.Join(dir, "t.db"), cfg: filepath.Join(dir, "tango.yaml"), checkpoints: filepath.Join(dir, "cp.jsonl")}
	f.db = "sqlite:" + f.dbPath
	out, stderr, code := tango(t, "audit", "keygen", "--out", filepath.Join(dir, "signing.key"))
	if code != 0 || !strings.HasPrefix(out, "ed25519:") {
		t.Fatalf("keygen: %d %q %s", code, out, stderr)
	}
	f.pub = strings.TrimSpace(out)
	if fi, err := os.Stat(filepath.Join(dir, "signing.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if _, _, code := tango(t, "audit", "keygen", "--out", filepath.Join(dir, "signing.key")); code != exitFail {
		t.Fatalf("keygen over an existing key: exit %d, want 1", code)
	}
	os.WriteFile(f.cfg, []byte(`
sources:
  - {name: hris, key: user_id, mapping: {display_name: employee_name, email: email}}
audit:
  checkpoint:
    signing_key: ${file:signing.key}
    public_key: `+f.pub+`
    sink: {file: cp.jsonl}
`), 0o600)
	f.importRows(t, "Ann Boss,E1,ann@dtaa.com\nBob,E2,bob@dtaa.com\n")
	return f
}

func (f auditFixture) importRows(t *testing.T, rows string) {
	t.Helper()
	csv := filepath.Join(f.dir, fmt.Sprintf("hr%d.csv", len(rows)))
	os.WriteFile(csv, []byte("employee_name,user_id,email\n"+rows), 0o600)
	if _, stderr, code := tango(t, "--db", f.db, "--config", f.cfg, "hr", "import", csv); code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
}

func (f auditFixture) head(t *testing.T) (int64, string) {
	t.Helper()
	st, err := app.OpenStore(context.Background(), f.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seq, hash, err := st.AuditHead(context.Background())
	if err != nil || seq == 0 {
		t.Fatalf("head: %d %v", seq, err)
	}
	return seq, hash
}

func (f auditFixture) sql(t *testing.T, query string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+f.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func (f auditFixture) verify(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return tango(t, append([]string{"--db", f.db, "--config", f.cfg, "audit", "verify"}, args...)...)
}

func TestAuditCheckpointAndVerify(t *testing.T) {
	f := newAuditFixture(t)
	out, stderr, code := tango(t, "--db", f.db, "--config", f.cfg, "audit", "checkpoint", "--json")
	var cp audit.Checkpoint
	if code != 0 || json.Unmarshal([]byte(out), &cp) != nil || cp.Seq == 0 || cp.Signature == "" {
		t.Fatalf("checkpoint: %d %q %s", code, out, stderr)
	}
	seq, hash := f.head(t)
	if cp.Seq != seq || cp.Hash != hash || cp.Count != seq {
		t.Fatalf("checkpoint %+v, head %d %s", cp, seq, hash)
	}
	out, stderr, code = f.verify(t)
	if code != 0 || !strings.Contains(out, "audit trail intact") || !strings.Contains(out, fmt.Sprintf("latest: seq %d", seq)) {
		t.Fatalf("verify intact: %d %q %s", code, out, stderr)
	}
	if out, stderr, code = f.verify(t, "--expect-head", fmt.Sprintf("%d:%s", seq, hash)); code != 0 {
		t.Fatalf("verify --expect-head the right head: %d %q %s", code, out, stderr)
	}
	// A wrong hash for the head.
	wrong := strings.Repeat("0", 63) + "1"
	out, stderr, code = f.verify(t, "--expect-head", fmt.Sprintf("%d:%s", seq, wrong))
	if code != exitFail || !strings.Contains(stderr, fmt.Sprintf("entry seq %d differs", seq)) {
		t.Fatalf("verify --expect-head a wrong hash: %d %q %s", code, out, stderr)
	}
	if _, _, code = cli(t, "--db", f.db, "--config", f.cfg, "audit", "verify", "--expect-head", "seven"); code != exitUsage {
		t.Fatalf("--expect-head seven: exit %d, want 2", code)
	}
	// The checkpoint file is not the database's: --checkpoints names another.
	if _, stderr, code = f.verify(t, "--checkpoints", filepath.Join(f.dir, "none.jsonl")); code != exitFail || !strings.Contains(stderr, "none.jsonl") {
		t.Fatalf("--checkpoints missing file: %d %s", code, stderr)
	}
	// A forged checkpoint appended to the file is refused.
	b, _ := os.ReadFile(f.checkpoints)
	forged := strings.Replace(strings.TrimSpace(string(b)), fmt.Sprintf(`"seq":%d`, seq), `"seq":1`, 1)
	os.WriteFile(f.checkpoints, append(b, forged+"\n"...), 0o644)
	if _, stderr, code = f.verify(t); code != exitFail || !strings.Contains(stderr, "signature does not verify") || !strings.Contains(stderr, "line 2") {
		t.Fatalf("forged checkpoint: %d %s", code, stderr)
	}
	os.WriteFile(f.checkpoints, b, 0o644)
	// No secret in what the commands print.
	key, _ := os.ReadFile(filepath.Join(f.dir, "signing.key"))
	for _, s := range []string{out, stderr} {
		if strings.Contains(s, strings.Split(string(key), "\n")[1]) {
			t.Fatal("the private key was printed")
		}
	}
}

// Whoever can write the database deletes every entry and resets the
// head: the chain alone looks intact, the signed checkpoint does not.
func TestAuditVerifyCatchesADeletedTrail(t *testing.T) {
	f := newAuditFixture(t)
	if _, stderr, code := tango(t, "--db", f.db, "--config", f.cfg, "audit", "checkpoint"); code != 0 {
		t.Fatalf("checkpoint: %s", stderr)
	}
	seq, _ := f.head(t)
	f.sql(t, "DELETE FROM audit")
	f.sql(t, "UPDATE audit_head SET seq = 0, hash = ?", audit.Genesis)
	// Without checkpoints, nothing is noticed (what this feature fixes).
	if out, _, code := tango(t, "--db", f.db, "audit", "verify"); code != 0 || !strings.Contains(out, "0 entries verified") {
		t.Fatalf("verify without checkpoints: %d %q", code, out)
	}
	out, stderr, code := f.verify(t)
	want := "the trail ends at seq 0 but checkpoint of "
	if code != exitFail || !strings.Contains(stderr, "audit trail broken at entry 1") || !strings.Contains(stderr, want) ||
		!strings.Contains(stderr, fmt.Sprintf("signed seq %d", seq)) {
		t.Fatalf("verify a deleted trail: %d %q %s", code, out, stderr)
	}
	out, _, code = f.verify(t, "--json")
	var r struct {
		Intact      bool
		FirstBroken int64 `json:"first_broken"`
		Reason      string
	}
	if code != exitFail || json.Unmarshal([]byte(out), &r) != nil || r.Intact || r.FirstBroken != 1 || !strings.Contains(r.Reason, "truncated") {
		t.Fatalf("verify --json: %d %q", code, out)
	}
}

// Whoever can write the database rewrites an entry and recomputes every
// hash after it: consistent by itself, but not with what was signed.
func TestAuditVerifyCatchesARecomputedChain(t *testing.T) {
	f := newAuditFixture(t)
	ctx := context.Background()
	if _, stderr, code := tango(t, "--db", f.db, "--config", f.cfg, "audit", "checkpoint"); code != 0 {
		t.Fatalf("checkpoint: %s", stderr)
	}
	k, _ := f.head(t) // the entry to rewrite is the head of the first checkpoint
	f.importRows(t, "Ann Boss,E1,ann@dtaa.com\nBob,E2,bob@dtaa.com\nCid,E3,cid@dtaa.com\n")
	if _, stderr, code := tango(t, "--db", f.db, "--config", f.cfg, "audit", "checkpoint"); code != 0 {
		t.Fatalf("second checkpoint: %s", stderr)
	}
	last, _ := f.head(t)
	if last <= k {
		t.Fatalf("the second import added no entries: %d <= %d", last, k)
	}
	st, err := app.OpenStore(ctx, f.db)
	if err != nil {
		t.Fatal(err)
	}
	es, err := st.AuditEntries(ctx, 0, 1000)
	st.Close()
	if err != nil || int64(len(es)) != last {
		t.Fatalf("entries: %d %v", len(es), err)
	}
	es[k-1].After = json.RawMessage(`{"details":"rewritten"}`)
	headSeq, headHash := audit.Chain(es[k-1:], k-1, es[k-1].PrevHash)
	for _, e := range es[k-1:] {
		f.sql(t, "UPDATE audit SET after_doc = ?, prev_hash = ?, hash = ? WHERE seq = ?", string(e.After), e.PrevHash, e.Hash, e.Seq)
	}
	f.sql(t, "UPDATE audit_head SET seq = ?, hash = ?", headSeq, headHash)
	if out, stderr, code := tango(t, "--db", f.db, "audit", "verify"); code != 0 {
		t.Fatalf("the recomputed chain should pass without checkpoints: %d %q %s", code, out, stderr)
	}
	out, stderr, code := f.verify(t)
	if code != exitFail || !strings.Contains(stderr, fmt.Sprintf("audit trail broken at entry %d: entry seq %d differs from the checkpointed hash", k, k)) {
		t.Fatalf("verify a recomputed chain: %d %q %s", code, out, stderr)
	}
	// Nor is the rewritten chain signed over by a new checkpoint.
	before, _ := os.ReadFile(f.checkpoints)
	if _, stderr, code := tango(t, "--db", f.db, "--config", f.cfg, "audit", "checkpoint"); code != exitFail || !strings.Contains(stderr, fmt.Sprintf("entry seq %d differs", k)) {
		t.Fatalf("checkpoint over a rewritten chain: %d %s", code, stderr)
	}
	if after, _ := os.ReadFile(f.checkpoints); string(after) != string(before) {
		t.Fatal("a checkpoint was written over a rewritten chain")
	}
}

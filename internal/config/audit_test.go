package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/audit"
)

func TestAuditCheckpointConfig(t *testing.T) {
	dir := t.TempDir()
	priv, pub, err := audit.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "k.pem"), priv, 0o600)
	_, other, _ := audit.GenerateKey()
	name := filepath.Join(dir, "tango.yaml")
	c, err := Parse([]byte(`audit: {checkpoint: {signing_key: "${file:k.pem}", public_key: "`+pub+`", every: 1h, sink: {file: cp.jsonl}}}`), name)
	if err != nil {
		t.Fatal(err)
	}
	cp := c.Audit.Checkpoint
	if !cp.Enabled() || cp.Key() == nil || audit.FormatPublicKey(cp.Public()) != pub || cp.Interval() != time.Hour || cp.Sink.File != filepath.Join(dir, "cp.jsonl") {
		t.Fatalf("parsed %+v", cp)
	}
	if d := Default().Audit.Checkpoint; d.Enabled() || d.Interval() != 15*time.Minute || d.Public() != nil {
		t.Fatalf("default: %+v", d)
	}
	// A verifier holds the public key alone.
	c, err = Parse([]byte(`audit: {checkpoint: {public_key: "`+pub+`", sink: {file: /x/cp.jsonl}}}`), name)
	if err != nil || c.Audit.Checkpoint.Enabled() || c.Audit.Checkpoint.Public() == nil || c.Audit.Checkpoint.Sink.File != "/x/cp.jsonl" {
		t.Fatalf("public key only: %+v %v", c.Audit.Checkpoint, err)
	}
	os.WriteFile(filepath.Join(dir, "bad.pem"), []byte("TOPSECRET"), 0o600)
	cases := map[string]string{
		`audit: {checkpoint: {signing_key: "${file:bad.pem}", sink: {file: x}}}`:                            `audit.checkpoint.signing_key: not a PEM`,
		`audit: {checkpoint: {signing_key: "${file:k.pem}"}}`:                                               `no sink`,
		`audit: {checkpoint: {signing_key: "${file:k.pem}", public_key: "` + other + `", sink: {file: x}}}`: `is not the public key of signing_key`,
		`audit: {checkpoint: {public_key: "ed25519:AAAA"}}`:                                                 `audit.checkpoint.public_key`,
		`audit: {checkpoint: {every: soon}}`:                                                                `audit.checkpoint.every "soon"`,
		`audit: {checkpoint: {signing_key: "${file:k.pem}", sink: {webhook: "ftp://x/TOPSECRET"}}}`:         `audit.checkpoint.sink.webhook: want an http or https URL`,
	}
	for doc, want := range cases {
		_, err := Parse([]byte(doc), name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", doc, err, want)
			continue
		}
		if strings.Contains(err.Error(), "TOPSECRET") || strings.Contains(err.Error(), "PRIVATE KEY-----\n") {
			t.Errorf("%s: the error shows a secret: %v", doc, err)
		}
	}
}

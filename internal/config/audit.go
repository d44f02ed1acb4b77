package config

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/audit"
)

// Audit is the `audit:` section.
type Audit struct {
	Checkpoint AuditCheckpoint `yaml:"checkpoint"`
}

// AuditCheckpoint configures signed checkpoints of the audit chain's head,
// kept outside the database (see internal/audit).
type AuditCheckpoint struct {
	// SigningKey is the ed25519 private key itself (PEM PKCS #8), given as
	// ${file:PATH} of the file `tango audit keygen` wrote, or ${env:NAME}.
	// Only processes that sign (serve, `tango audit checkpoint`) need it.
	SigningKey string `yaml:"signing_key"`
	// PublicKey verifies checkpoints: "ed25519:BASE64" as keygen prints
	// it; empty: the signing key's own.
	PublicKey string `yaml:"public_key"`
	// Every is how often `tango serve` signs one (default 15m).
	Every string `yaml:"every"`
	Sink  struct {
		// File is a JSON-lines file checkpoints are appended to; a relative
		// path is relative to the config file's directory.
		File string `yaml:"file"`
		// Webhook receives each checkpoint as a JSON POST; its URL is never logged.
		Webhook string `yaml:"webhook"`
	} `yaml:"sink"`

	key      ed25519.PrivateKey
	pub      ed25519.PublicKey
	interval time.Duration
}

// Key is the parsed signing key (nil when none is configured).
func (a *AuditCheckpoint) Key() ed25519.PrivateKey { return a.key }

// Public is the key checkpoints are verified with: public_key, else the
// signing key's (nil when neither is configured).
func (a *AuditCheckpoint) Public() ed25519.PublicKey { return a.pub }

// Interval is every parsed (default 15m).
func (a *AuditCheckpoint) Interval() time.Duration {
	if a.interval <= 0 {
		return audit.DefaultCheckpointEvery
	}
	return a.interval
}

// Enabled reports whether checkpoints are signed: a key and a sink.
func (a *AuditCheckpoint) Enabled() bool {
	return a.key != nil && (a.Sink.File != "" || a.Sink.Webhook != "")
}

// Secrets lists the secret values (the key and the webhook URL).
func (a *AuditCheckpoint) Secrets() []string {
	var out []string
	for _, s := range []string{a.SigningKey, a.Sink.Webhook} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (a *AuditCheckpoint) expand(f func(string) string) {
	a.SigningKey = f(a.SigningKey)
	a.PublicKey = f(a.PublicKey)
	a.Sink.Webhook = f(a.Sink.Webhook)
}

// finish parses and checks the section; dir resolves a relative sink file.
// Its errors name the key, never the secret.
func (a *AuditCheckpoint) finish(dir string) []error {
	var errs []error
	if s := strings.TrimSpace(a.SigningKey); s != "" {
		k, err := audit.ParsePrivateKey(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("audit.checkpoint.signing_key: %v", err))
		} else {
			a.key, a.pub = k, k.Public().(ed25519.PublicKey)
		}
	}
	if s := strings.TrimSpace(a.PublicKey); s != "" {
		pub, err := audit.ParsePublicKey(s)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("audit.checkpoint.public_key: %v", err))
		case a.pub != nil && !a.pub.Equal(pub):
			errs = append(errs, fmt.Errorf("audit.checkpoint.public_key (key %s) is not the public key of signing_key (key %s)", audit.KeyID(pub), audit.KeyID(a.pub)))
		default:
			a.pub = pub
		}
	}
	if s := strings.TrimSpace(a.Every); s != "" {
		d, err := ParseDuration(s)
		if err != nil || d < time.Second {
			errs = append(errs, fmt.Errorf("audit.checkpoint.every %q: want a duration of at least 1s, such as 15m", s))
		}
		a.interval = d
	}
	if a.Sink.File != "" && !filepath.IsAbs(a.Sink.File) && dir != "" {
		a.Sink.File = filepath.Join(dir, a.Sink.File)
	}
	if w := a.Sink.Webhook; w != "" {
		if u, err := url.Parse(w); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, errors.New("audit.checkpoint.sink.webhook: want an http or https URL"))
		}
	}
	if a.key != nil && a.Sink.File == "" && a.Sink.Webhook == "" {
		errs = append(errs, errors.New("audit.checkpoint.signing_key is set but no sink: set audit.checkpoint.sink.file or .webhook"))
	}
	return errs
}

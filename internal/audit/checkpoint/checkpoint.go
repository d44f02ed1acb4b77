// Package checkpoint keeps signed audit checkpoints outside the database:
// File appends them to a JSON-lines file (and reads them back for `tango
// audit verify`), Webhook posts each one as JSON to a URL.
package checkpoint

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/httpclient"
)

// MaxLine bounds one line of a checkpoint file.
const MaxLine = 64 << 10

// File appends checkpoints to a file, one JSON object a line.
type File struct{ Path string }

// Name is the file's path.
func (f File) Name() string { return f.Path }

// Write appends c as one line (a single write on a file opened for
// appending, so that several processes may share the file) and syncs it.
func (f File) Write(_ context.Context, c audit.Checkpoint) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	fh, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := fh.Write(append(b, '\n')); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// Read reads every checkpoint of r (named name in errors) and checks each
// signature with pub. Any line that does not parse or verify is an error
// naming its line: a checkpoint file is written by Tango alone, so a bad
// line is damage or tampering, never something to skip.
func Read(r io.Reader, name string, pub ed25519.PublicKey) ([]audit.Checkpoint, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	var out []audit.Checkpoint
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var c audit.Checkpoint
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("checkpoint file %s line %d: not a checkpoint: %v", name, n, err)
		}
		if err := audit.VerifyCheckpoint(c, pub); err != nil {
			return nil, fmt.Errorf("checkpoint file %s line %d (seq %d): %w", name, n, c.Seq, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("checkpoint file %s: a line longer than %d bytes: not a checkpoint file", name, MaxLine)
		}
		return nil, fmt.Errorf("checkpoint file %s: %w", name, err)
	}
	return out, nil
}

// ReadFile is Read of the file at path.
func ReadFile(path string, pub ed25519.PublicKey) ([]audit.Checkpoint, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return Read(fh, path, pub)
}

// Webhook posts each checkpoint as JSON to a URL. The URL often holds a
// secret: it is never logged and is redacted from errors.
type Webhook struct {
	URL    string
	Client *http.Client // nil: a client with a 30 s timeout
}

// Name is the URL's scheme and host only.
func (w Webhook) Name() string {
	u, err := url.Parse(w.URL)
	if err != nil || u.Host == "" {
		return "the checkpoint webhook"
	}
	return "webhook " + u.Scheme + "://" + u.Host
}

// Write posts c, retrying temporary failures a few times; any status
// other than 2xx is an error.
func (w Webhook) Write(ctx context.Context, c audit.Checkpoint) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	red := httpclient.NewRedactor(w.URL)
	resp, err := httpclient.Do(ctx, client, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
		if err != nil {
			return nil, errors.New("invalid webhook URL")
		}
		req.Header.Set("Content-Type", "application/json")
		return req, nil
	}, httpclient.Policy{MaxRetries: 3, MaxWait: 10 * time.Second, Base: time.Second, Ceiling: 10 * time.Second, MaxBody: 4096, Redactor: red})
	if err != nil {
		return red.Error(err)
	}
	if resp.Status/100 != 2 {
		return fmt.Errorf("answered %d", resp.Status)
	}
	return nil
}

package checkpoint

import (
	"errors"
	"os"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/config"
)

// Sinks are the sinks audit.checkpoint configures.
func Sinks(cp *config.AuditCheckpoint) []audit.Sink {
	var sinks []audit.Sink
	if cp.Sink.File != "" {
		sinks = append(sinks, File{Path: cp.Sink.File})
	}
	if cp.Sink.Webhook != "" {
		sinks = append(sinks, Webhook{URL: cp.Sink.Webhook})
	}
	return sinks
}

// FromConfig is the checkpointer audit.checkpoint configures: it signs
// with the configured key into the configured sinks and, with a file
// sink, compares the chain with the checkpoints already in the file. It
// is nil when checkpoints are not configured. The CLI, the server's
// checkpoint job and evidence exports (tango evidence export, the web
// workspace's download) use it.
func FromConfig(st audit.Reader, cfg *config.Config, now func() time.Time) (*audit.Checkpointer, error) {
	cp := &cfg.Audit.Checkpoint
	if !cp.Enabled() {
		return nil, nil
	}
	c, err := audit.NewCheckpointer(st, cp.Key(), now, Sinks(cp)...)
	if err != nil {
		return nil, err
	}
	if file := cp.Sink.File; file != "" {
		pub := cp.Public()
		c.CompareWith(func() ([]audit.Expectation, error) {
			cps, err := ReadFile(file, pub)
			if errors.Is(err, os.ErrNotExist) {
				return nil, nil // the first checkpoint
			}
			exps := make([]audit.Expectation, len(cps))
			for i, c := range cps {
				exps[i] = audit.FromCheckpoint(c)
			}
			return exps, err
		})
	}
	return c, nil
}

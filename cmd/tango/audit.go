package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/audit/checkpoint"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/runner"
)

func auditCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "audit", Short: "The hash-chained audit trail and its signed checkpoints"}
	c.AddCommand(auditVerifyCmd(g), auditListCmd(g), auditKeygenCmd(), auditCheckpointCmd(g))
	return c
}

func auditVerifyCmd(g *globals) *cobra.Command {
	var asJSON bool
	var expectHead, cpFile string
	verify := &cobra.Command{
		Use:   "verify [--expect-head SEQ:HASH] [--checkpoints FILE] [--json]",
		Short: "Check the whole hash chain against its signed checkpoints or the given head; exit 0 when intact, 1 naming the first broken entry",
		Long: `Walks the whole hash chain from its first entry and checks every link and
the head the database recorded. Beyond that it compares the chain with
what was recorded outside the database, which someone able to write the
database cannot rewrite:
  - every signed checkpoint of the checkpoint file (--checkpoints, default
    audit.checkpoint.sink.file), each signature checked with
    audit.checkpoint.public_key: the entry at a checkpoint's seq must
    exist with the checkpointed hash, and the trail must hold at least the
    checkpoint's count of entries;
  - --expect-head SEQ:HASH, a head noted earlier (from a checkpoint or a
    previous verify): the entry SEQ must exist with that hash.
Exit 0 when intact; 1 naming the first entry that differs (a trail cut
short: "the trail ends at seq N but checkpoint … signed seq M"; a rewritten
one: "entry seq K differs from the checkpointed hash").`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var expect []audit.Expectation
			if expectHead != "" {
				seq, hash, err := audit.ParseHead(expectHead)
				if err != nil {
					return usageErr{fmt.Errorf("--expect-head: %w", err)}
				}
				expect = append(expect, audit.Expectation{Seq: seq, Hash: hash, What: "the expected head"})
			}
			cfg, err := app.LoadConfig(g.config)
			if err != nil {
				return err
			}
			cps, latest, err := readCheckpoints(cmd.ErrOrStderr(), cfg, cpFile)
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			for _, c := range cps {
				expect = append(expect, audit.FromCheckpoint(c))
			}
			st, err := app.OpenExistingStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			r, brk, err := audit.VerifyTrail(ctx, st, expect)
			if err != nil {
				return err
			}
			if asJSON {
				out := struct {
					audit.Report
					Checkpoint *audit.Checkpoint `json:"checkpoint,omitempty"`
				}{r, latest}
				if err := json.NewEncoder(cmd.OutOrStdout()).Encode(out); err != nil {
					return err
				}
			} else if brk == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "audit trail intact: %d entries verified\n", r.Checked)
				if latest != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "matches %d signed checkpoints; the latest: seq %d, signed %s by key %s\n",
						len(cps), latest.Seq, latest.At.Format("2006-01-02T15:04:05Z"), latest.KeyID)
				}
				if expectHead != "" {
					fmt.Fprintf(cmd.OutOrStdout(), "matches the expected head %s\n", expectHead)
				}
			}
			if brk != nil {
				return &exitError{code: exitFail, err: fmt.Errorf("audit trail broken at entry %d: %s (%d entries verified before it)", brk.Seq, brk.Reason, r.Checked)}
			}
			return nil
		},
	}
	verify.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	verify.Flags().StringVar(&expectHead, "expect-head", "", "SEQ:HASH of a head noted earlier: entry SEQ must still have HASH")
	verify.Flags().StringVar(&cpFile, "checkpoints", "", "a file of signed checkpoints (JSON lines; default: audit.checkpoint.sink.file)")
	return verify
}

// readCheckpoints reads and checks the signed checkpoints of file (or of
// the configured file sink) and returns them with the latest. No file
// configured or given: none. A configured file that does not exist yet
// is a warning (none were written); a given one is an error.
func readCheckpoints(stderr io.Writer, cfg *config.Config, file string) ([]audit.Checkpoint, *audit.Checkpoint, error) {
	cp := &cfg.Audit.Checkpoint
	given := file != ""
	if !given {
		file = cp.Sink.File
	}
	if file == "" {
		return nil, nil, nil
	}
	pub := cp.Public()
	if pub == nil {
		return nil, nil, fmt.Errorf("checkpoint file %s: no key to check its signatures with: set audit.checkpoint.public_key in the config", file)
	}
	cps, err := checkpoint.ReadFile(file, pub)
	if errors.Is(err, os.ErrNotExist) && !given {
		fmt.Fprintf(stderr, "warning: checkpoint file %s does not exist (no checkpoint written yet): only the chain itself is checked\n", file)
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var latest *audit.Checkpoint
	for i := range cps {
		if latest == nil || cps[i].Seq > latest.Seq || (cps[i].Seq == latest.Seq && cps[i].At.After(latest.At)) {
			latest = &cps[i]
		}
	}
	return cps, latest, nil
}

func auditKeygenCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "keygen --out FILE",
		Short: "Make an ed25519 key for signing audit checkpoints: the private key to FILE (0600), the public key on stdout",
		Long: `Writes a new ed25519 private key (PEM PKCS #8) to FILE, readable by its
owner alone, and prints the public key. Refuses to overwrite a file. Put
the key in the config as
  audit:
    checkpoint:
      signing_key: ${file:FILE}
      public_key: ed25519:…   (the printed line)
Keep FILE away from the database's backups and administrators: whoever
holds it can sign checkpoints.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageErr{errors.New("--out FILE is required")}
			}
			priv, pub, err := audit.GenerateKey()
			if err != nil {
				return err
			}
			if err := writeKeyFile(out, priv); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), pub)
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "file to write the private key to (must not exist)")
	return c
}

// writeKeyFile creates path (never overwriting) with mode 0600.
func writeKeyFile(path string, key []byte) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	if _, err := fh.Write(key); err != nil {
		fh.Close()
		os.Remove(path)
		return fmt.Errorf("--out %s: %w", path, err)
	}
	return fh.Close()
}

// newCheckpointer is checkpoint.FromConfig: nil when checkpoints are not
// configured.
func newCheckpointer(st audit.Reader, cfg *config.Config, now func() time.Time) (*audit.Checkpointer, error) {
	return checkpoint.FromConfig(st, cfg, now)
}

func auditCheckpointCmd(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "checkpoint [--json]",
		Short: "Verify the chain, sign a checkpoint of its head now and write it to the configured sinks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := app.LoadConfig(g.config)
			if err != nil {
				return err
			}
			if cfg.Audit.Checkpoint.Key() == nil {
				return errors.New("no signing key: set audit.checkpoint.signing_key (a key from `tango audit keygen`) and a sink in the config")
			}
			st, err := app.OpenExistingStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			cpr, err := newCheckpointer(st, cfg, time.Now)
			if err != nil {
				return err
			}
			c, err := cpr.Checkpoint(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(c)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "checkpoint signed: seq %d hash %s (%d entries) by key %s\n", c.Seq, c.Hash, c.Count, c.KeyID)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the checkpoint as JSON")
	return c
}

// checkpointJob signs a checkpoint when serve starts, every
// audit.checkpoint.every and once more at shutdown; ok is false when
// checkpoints are not configured.
func checkpointJob(st audit.Reader, cfg *config.Config, log *slog.Logger, now func() time.Time) (runner.Job, bool) {
	cpr, err := newCheckpointer(st, cfg, now)
	if err != nil {
		log.Error("audit checkpoints unavailable", "err", err)
		return runner.Job{}, false
	}
	if cpr == nil {
		return runner.Job{}, false
	}
	every := cfg.Audit.Checkpoint.Interval()
	log.Info("audit checkpoints", "every", every)
	once := func(ctx context.Context) error {
		c, err := cpr.Checkpoint(ctx)
		if err == nil {
			log.Info("audit checkpoint signed", "seq", c.Seq, "hash", c.Hash, "key_id", c.KeyID)
		}
		return err
	}
	return runner.Job{
		Name:    "audit-checkpoint",
		RunOnce: func(ctx context.Context) (int, error) { return 0, once(ctx) },
		Poll:    every,
		Stop:    once,
	}, true
}

// demoSigningKey makes the demo's checkpoint key in dir unless it is there.
func demoSigningKey(dir string) error {
	path := filepath.Join(dir, demoKeyFile)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	priv, _, err := audit.GenerateKey()
	if err != nil {
		return err
	}
	return writeKeyFile(path, priv)
}

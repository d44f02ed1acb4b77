package main

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/evidence"
	"github.com/tango-iga/tango/internal/store"
)

// evidenceCmd is `tango evidence export|verify`: bundles an auditor takes
// away and checks offline.
func evidenceCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "evidence", Short: "Evidence bundles for auditors: export, and verify offline"}
	c.AddCommand(evidenceExportCmd(g), evidenceVerifyCmd(g))
	return c
}

func evidenceExportCmd(g *globals) *cobra.Command {
	var leavers, asJSON bool
	var since, out string
	var campaign int64
	c := &cobra.Command{
		Use:   "export --campaign ID | --leavers --since 90d --out DIR",
		Short: "Write an evidence bundle: CSV and XLSX of every row, a PDF summary, manifest.json with each file's SHA-256",
		Long: "Writes an evidence bundle into DIR (created; it must not hold a bundle yet).\n\n" +
			"--campaign ID: every item of an access review (person, access, origin, reviewer, decision, reason, decided at,\n" +
			"removal operation, verified at; items.csv, reviewers.csv) with the snapshot digest recorded at launch.\n" +
			"--leavers: every leaver whose leave was applied since --since, each account operation that took their\n" +
			"access away with the time to disable, and each task of their leaver case with its evidence\n" +
			"(leavers.csv, accounts.csv, tasks.csv, evidence.xlsx, summary.pdf, manifest.json).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if leavers == (campaign != 0) {
				return usageErr{fmt.Errorf("say what to export: --campaign ID or --leavers")}
			}
			if out == "" {
				return usageErr{fmt.Errorf("--out DIR is required")}
			}
			now := time.Now()
			from, err := store.ParseSince(since, now)
			if err != nil {
				return usageErr{fmt.Errorf("--since %q: %w", since, err)}
			}
			cfg, err := app.LoadConfig(g.config)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := app.OpenExistingStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			var b evidence.Bundle
			if campaign != 0 {
				b, err = evidence.Campaign(ctx, st, campaign, cfg.Location())
			} else {
				b, err = evidence.Leavers(ctx, st, from, now, cfg.Location())
			}
			if err != nil {
				return err
			}
			// The export is an audit entry naming what was asked, and a
			// signed checkpoint in the manifest when checkpoints are configured.
			m, err := evidence.Export(ctx, st, cfg, b, cliActor(), out, time.Now)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(w).Encode(m)
			}
			for _, f := range m.Files {
				fmt.Fprintf(w, "%s  %s  %d bytes\n", f.SHA256, f.Name, f.Bytes)
			}
			if campaign != 0 {
				fmt.Fprintf(w, "wrote %s: campaign %d, %d item(s), %d reviewer(s), snapshot digest %s; check it with `tango evidence verify %s`\n",
					out, campaign, m.Rows["items"], m.Rows["reviewers"], m.SnapshotDigest, out)
				return nil
			}
			fmt.Fprintf(w, "wrote %s: %d leaver(s), %d account operation(s), %d task(s); check it with `tango evidence verify %s`\n",
				out, m.Rows["leavers"], m.Rows["accounts"], m.Rows["tasks"], out)
			return nil
		},
	}
	c.Flags().Int64Var(&campaign, "campaign", 0, "the evidence of one access review campaign (tango reviews list)")
	c.Flags().BoolVar(&leavers, "leavers", false, "offboarding evidence of every leaver since --since")
	c.Flags().StringVar(&since, "since", "90d", "a length of time back (90d), a date or an RFC 3339 time")
	c.Flags().StringVar(&out, "out", "", "the directory to write the bundle into")
	c.Flags().BoolVar(&asJSON, "json", false, "print the manifest as JSON")
	return c
}

func evidenceVerifyCmd(g *globals) *cobra.Command {
	var asJSON bool
	var publicKey string
	c := &cobra.Command{
		Use:   "verify DIR",
		Short: "Check a bundle offline: every file against its SHA-256 in manifest.json, nothing added; exit 1 naming the first file that differs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, err := verifyKey(g, publicKey)
			if err != nil {
				return err
			}
			checked := ""
			check := func(raw json.RawMessage) error {
				var c audit.Checkpoint
				if err := json.Unmarshal(raw, &c); err != nil {
					return fmt.Errorf("does not parse: %w", err)
				}
				if pub == nil {
					checked = fmt.Sprintf("; its audit checkpoint (seq %d, key %s) was not checked: give --public-key or audit.checkpoint.public_key", c.Seq, c.KeyID)
					return nil
				}
				if err := audit.VerifyCheckpoint(c, pub); err != nil {
					return err
				}
				checked = fmt.Sprintf("; its audit checkpoint (seq %d, hash %s) is signed by key %s", c.Seq, c.Hash, c.KeyID)
				return nil
			}
			m, err := evidence.Verify(args[0], check)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(w).Encode(map[string]any{"intact": true, "kind": m.Kind, "created_at": m.CreatedAt, "files": len(m.Files),
					"checkpoint_verified": len(m.Checkpoint) > 0 && pub != nil})
			}
			fmt.Fprintf(w, "evidence bundle intact: %s of %s, %d file(s) match manifest.json%s\n", m.Kind, m.CreatedAt.Format(time.RFC3339), len(m.Files), checked)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	c.Flags().StringVar(&publicKey, "public-key", "", "the checkpoint key (ed25519:BASE64 from `tango audit keygen`); default: audit.checkpoint.public_key of the config, if there is one")
	return c
}

// verifyKey is the public key a bundle's checkpoint is checked with: the
// flag's, else the config's (verify works without a database, and without
// a config file).
func verifyKey(g *globals, flag string) (ed25519.PublicKey, error) {
	if flag != "" {
		pub, err := audit.ParsePublicKey(flag)
		if err != nil {
			return nil, usageErr{fmt.Errorf("--public-key: %w", err)}
		}
		return pub, nil
	}
	cfg, err := app.LoadConfig(g.config)
	if err != nil {
		return nil, nil
	}
	return cfg.Audit.Checkpoint.Public(), nil
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/table"
)

func cliActor() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}

func hrCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "hr", Short: "HR feeds: import snapshots, decide held imports"}
	c.AddCommand(hrImportCmd(g), hrImportsCmd(g), hrDecideCmd(g, true), hrDecideCmd(g, false))
	return c
}

func hrImportCmd(g *globals) *cobra.Command {
	var source, format string
	var dryRun, asJSON bool
	c := &cobra.Command{
		Use:   "import FILE",
		Short: "Read one full HR snapshot, validate it whole, and apply its lifecycle events",
		Long: `Reads one full HR snapshot (CSV, JSON array of objects, or XLSX) with the
column mapping of the source in the config, validates every row before
anything is written, and turns the differences with the stored workforce
into joiner, mover, leaver, rehire and attribute-change events. The format
is --format, else the source's format when the config sets one, else the
file's extension and content.

Exit codes: 0 applied (or dry run), 1 rejected or failed, 3 held by a safeguard.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if format != "" && !slices.Contains(table.Formats, format) {
				return usageErr{fmt.Errorf("--format %q: want csv, json or xlsx", format)}
			}
			cfg, err := app.LoadConfig(g.config)
			if err != nil {
				return err
			}
			src, err := cfg.Source(source)
			if err != nil {
				return err
			}
			if src.Kind != "file" {
				return fmt.Errorf("source %q is of kind %s: it is pushed over SCIM, not imported from a file", src.Name, src.Kind)
			}
			name := args[0]
			data, err := os.ReadFile(name)
			var res hr.Result
			if err != nil {
				res = hr.Result{Source: src.Name, Status: store.ImportRejected,
					Errors: []hr.RowError{{Message: fmt.Sprintf("%s: cannot read: %v", name, errors.Unwrap(err))}}}
			} else {
				st, err := app.OpenStore(ctx, app.DSN(g.db))
				if err != nil {
					return err
				}
				defer st.Close()
				f := hr.File{Source: src, Name: filepath.Base(name), Data: data, DryRun: dryRun, Actor: cliActor(), Format: format}
				if format != "" {
					f.FormatFrom = "--format"
				}
				// With apps configured, the import's access changes are queued in
				// its own transaction; `tango serve` workers carry them out.
				eng, err := app.Engine(st, cfg, slog.New(slog.NewTextHandler(os.Stderr, nil)), time.Now)
				if err != nil {
					return err
				}
				if eng != nil {
					defer eng.Close()
				}
				res, err = app.Imports(st, cfg, eng, time.Now).Import(ctx, f)
				if err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				printResult(cmd, name, res)
			}
			switch res.Status {
			case store.ImportRejected:
				if asJSON {
					return &exitError{code: exitFail}
				}
				if res.ImportID != "" {
					return &exitError{code: exitFail, err: fmt.Errorf("%s: rejected with %d error(s) as import %s; nothing else was written (`tango hr imports --status rejected`)", name, len(res.Errors), res.ImportID)}
				}
				return &exitError{code: exitFail, err: fmt.Errorf("%s: rejected with %d error(s); nothing was written", name, len(res.Errors))}
			case store.ImportHeld:
				return &exitError{code: exitHeld, err: fmt.Errorf("import %s held: %s; run `tango hr approve %s` or `tango hr reject %s`", res.ImportID, res.Reason, res.ImportID, res.ImportID)}
			}
			return nil
		},
	}
	c.Flags().StringVar(&source, "source", "", "source name in the config (default: the first file source)")
	c.Flags().StringVar(&format, "format", "", "csv, json or xlsx (default: the source's format when set, else the file's extension and content)")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "validate and report the events without writing anything")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object on stdout")
	return c
}

func printResult(cmd *cobra.Command, name string, r hr.Result) {
	out := cmd.OutOrStdout()
	if r.Status == store.ImportRejected {
		for _, e := range r.Errors {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s\n", name, e.Error())
		}
		return
	}
	id := r.ImportID
	if id == "" {
		id = "(dry run)"
	}
	fmt.Fprintf(out, "import %s  source %s  status %s\n", id, r.Source, r.Status)
	fmt.Fprintf(out, "rows %d  joiners %d  movers %d  leavers %d  rehires %d  changes %d  unchanged %d  scheduled %d\n",
		r.Rows, r.Joiners, r.Movers, r.Leavers, r.Rehires, r.Changes, r.Unchanged, r.Scheduled)
}

func hrDecideCmd(g *globals, approve bool) *cobra.Command {
	use, short := "reject IMPORT_ID", "Discard an import that a safeguard held"
	if approve {
		use, short = "approve IMPORT_ID", "Release an import that a safeguard held, applying its events"
	}
	var asJSON bool
	c := &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := app.OpenStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			// Rejecting needs neither the config nor provisioning.
			imports := app.Imports(st, nil, nil, time.Now)
			if approve {
				// As an import does: the approved events' access changes are
				// queued in the approval's own transaction.
				cfg, err := app.LoadConfig(g.config)
				if err != nil {
					return err
				}
				eng, err := app.Engine(st, cfg, slog.New(slog.NewTextHandler(os.Stderr, nil)), time.Now)
				if err != nil {
					return err
				}
				defer eng.Close()
				imports = app.Imports(st, cfg, eng, time.Now)
			}
			imp, err := imports.Decide(ctx, args[0], approve, cliActor())
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(imp)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "import %s of source %s is now %s (decided by %s)\n", imp.ID, imp.Source, imp.Status, imp.DecidedBy)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the import as JSON")
	return c
}

package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/audit"
)

func auditCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "audit", Short: "The hash-chained audit trail"}
	var asJSON bool
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check the whole hash chain; exit 0 when intact, 1 naming the first broken entry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := app.OpenExistingStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			v := audit.NewVerifier()
			var after int64
			var brk *audit.Break
			for brk == nil {
				page, err := st.AuditEntries(ctx, after, 5000)
				if err != nil {
					return err
				}
				if len(page) == 0 {
					break
				}
				brk = v.Next(page)
				after = page[len(page)-1].Seq
			}
			if brk == nil {
				seq, hash, err := st.AuditHead(ctx)
				if err != nil {
					return err
				}
				brk = v.Finish(seq, hash)
			}
			type report struct {
				Intact  bool   `json:"intact"`
				Checked int64  `json:"checked"`
				Broken  int64  `json:"first_broken,omitempty"`
				Reason  string `json:"reason,omitempty"`
			}
			r := report{Intact: brk == nil, Checked: v.Checked}
			if brk != nil {
				r.Broken, r.Reason = brk.Seq, brk.Reason
			}
			if asJSON {
				if err := json.NewEncoder(cmd.OutOrStdout()).Encode(r); err != nil {
					return err
				}
			} else if brk == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "audit trail intact: %d entries verified\n", v.Checked)
			}
			if brk != nil {
				return &exitError{code: exitFail, err: fmt.Errorf("audit trail broken at entry %d: %s (%d entries verified before it)", brk.Seq, brk.Reason, v.Checked)}
			}
			return nil
		},
	}
	verify.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	c.AddCommand(verify, auditListCmd(g))
	return c
}

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/signin"
	"github.com/tango-iga/tango/internal/store"
)

// signinManager opens the store and config and makes a sign-in manager.
func signinManager(cmd *cobra.Command, g *globals, existing bool) (*signin.Manager, store.Store, error) {
	ctx := cmd.Context()
	cfg, err := app.LoadConfig(g.config)
	if err != nil {
		return nil, nil, err
	}
	open := app.OpenStore
	if existing {
		open = app.OpenExistingStore
	}
	st, err := open(ctx, app.DSN(g.db))
	if err != nil {
		return nil, nil, err
	}
	return signin.New(signin.Options{Store: st, Config: cfg}), st, nil
}

// readPassword reads a password, the first line of r (at most 1 KiB).
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReaderSize(io.LimitReader(r, 1025), 1025).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	if len(line) > 1024 {
		return "", errors.New("the password on stdin is longer than 1024 bytes")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func usersCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "users", Short: "Local accounts: passwords and TOTP for signing in at /login"}
	setPassword := &cobra.Command{
		Use:   "set-password PERSON_ID",
		Short: "Give a person a local account, or a new password (read from stdin, at least 12 characters)",
		Long: `Reads the password from the first line of stdin (type it, or pipe it in:
printf '%s\n' "$PW" | tango users set-password WFV0687). The person must be
active in the workforce. The password is stored as an argon2id hash; a TOTP
secret already set is kept.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, st, err := signinManager(cmd, g, false)
			if err != nil {
				return err
			}
			defer st.Close()
			pw, err := readPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			if err := m.SetPassword(cmd.Context(), args[0], pw, cliActor()); err != nil {
				return fmt.Errorf("set-password %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "password of %s set; they sign in at /login\n", args[0])
			return nil
		},
	}
	totp := &cobra.Command{Use: "totp", Short: "Require an authenticator code (TOTP) at local sign-in"}
	enable := &cobra.Command{
		Use:   "enable PERSON_ID",
		Short: "Give a local account a new TOTP secret; prints its otpauth:// URL and secret once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, st, err := signinManager(cmd, g, true)
			if err != nil {
				return err
			}
			defer st.Close()
			key, err := m.EnableTOTP(cmd.Context(), args[0], cliActor())
			if err != nil {
				return fmt.Errorf("totp enable %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "TOTP enabled for %s; add it to their authenticator app (shown only once):\n", args[0])
			fmt.Fprintf(cmd.OutOrStdout(), "secret %s\n%s\n", key.Secret(), key.URL())
			return nil
		},
	}
	disable := &cobra.Command{
		Use: "disable PERSON_ID", Short: "Stop asking a local account for a TOTP code", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, st, err := signinManager(cmd, g, true)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := m.DisableTOTP(cmd.Context(), args[0], cliActor()); err != nil {
				return fmt.Errorf("totp disable %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "TOTP disabled for %s\n", args[0])
			return nil
		},
	}
	totp.AddCommand(enable, disable)
	c.AddCommand(setPassword, totp)
	return c
}

func sessionsCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "sessions", Short: "Signed-in browser sessions"}
	var asJSON bool
	list := &cobra.Command{
		Use: "list [--json]", Short: "List live sessions", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, st, err := signinManager(cmd, g, true)
			if err != nil {
				return err
			}
			defer st.Close()
			ss, err := m.Sessions(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(ss)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tPERSON\tMETHOD\tIP\tCREATED\tLAST SEEN\tEXPIRES")
			for _, s := range ss {
				ip := s.IP
				if ip == "" {
					ip = "-"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Person, s.Method, ip,
					s.CreatedAt.Format(time.RFC3339), s.LastSeen.Format(time.RFC3339), s.ExpiresAt.Format(time.RFC3339))
			}
			return w.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var person string
	revoke := &cobra.Command{
		Use: "revoke SESSION_ID | --person PERSON_ID", Short: "End a session, or every session of a person, at once",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == (person != "") {
				return errors.New("give a SESSION_ID (see `tango sessions list`) or --person PERSON_ID, not both")
			}
			m, st, err := signinManager(cmd, g, true)
			if err != nil {
				return err
			}
			defer st.Close()
			if person != "" {
				ids, err := m.RevokePerson(cmd.Context(), person, cliActor())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d session(s) of %s ended\n", len(ids), person)
				return nil
			}
			if err := m.Revoke(cmd.Context(), args[0], cliActor()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "session %s ended\n", args[0])
			return nil
		},
	}
	revoke.Flags().StringVar(&person, "person", "", "end every session of this employee ID")
	c.AddCommand(list, revoke)
	return c
}

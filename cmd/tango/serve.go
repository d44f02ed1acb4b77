package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/notify"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/review"
	"github.com/tango-iga/tango/internal/runner"
	"github.com/tango-iga/tango/internal/sample"
	"github.com/tango-iga/tango/internal/scheduler"
	"github.com/tango-iga/tango/internal/signin"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/workflow"
)

// drainTimeout bounds how long a shutdown waits for requests in flight.
const drainTimeout = 10 * time.Second

// serveFlags are the flags `serve` and `demo` share.
type serveFlags struct {
	addr        string
	metricsAddr string
	every       time.Duration
	logFormat   string
}

func (f *serveFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	c.Flags().StringVar(&f.metricsAddr, "metrics-addr", "", "serve /metrics on this address of its own, without a token (for a Prometheus scraper); empty: /metrics on --addr needs a token with metrics.read")
	c.Flags().DurationVar(&f.every, "schedule-every", scheduler.DefaultEvery, "how often scheduled joiners and leavers are applied when their date comes")
	c.Flags().StringVar(&f.logFormat, "log-format", "text", "request and event log format on stderr: text or json")
}

// metricsListener listens on --metrics-addr (nil when not given).
func (f *serveFlags) metricsListener() (net.Listener, error) {
	if f.metricsAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", f.metricsAddr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %s: %w", f.metricsAddr, err)
	}
	return ln, nil
}

func (f *serveFlags) logger(w io.Writer) (*slog.Logger, error) {
	switch f.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, usageErr{fmt.Errorf("--log-format %q: want text or json", f.logFormat)}
}

func serveCmd(g *globals) *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8080]",
		Short: "Run the API, SCIM service, web UI and workers",
		Long: `Serves /healthz, /readyz, /metrics, the REST API under /api/v1 (its OpenAPI
document at /api/v1/openapi.json) and the web page at /, and applies
scheduled joiners and leavers when their date comes. Several processes may
share one PostgreSQL database. SIGINT or SIGTERM stops accepting requests,
drains those in flight for up to 10 s and closes the database.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			log, err := f.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			cfg, err := app.LoadConfig(g.config)
			if err != nil {
				return err
			}
			st, err := app.OpenStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			ln, err := net.Listen("tcp", f.addr)
			if err != nil {
				return fmt.Errorf("--addr %s: %w", f.addr, err)
			}
			mln, err := f.metricsListener()
			if err != nil {
				ln.Close()
				return err
			}
			return serve(ctx, log, st, cfg, ln, f.every, mln)
		},
	}
	f.register(c)
	return c
}

// serve runs the HTTP server and the background jobs (scheduler,
// provisioning, workflow, notifications) on ln until ctx is done, then
// shuts down gracefully: requests in flight are drained, each job's pass
// in flight ends, and what is still buffered is written. It closes ln;
// the caller closes st. With mln, /metrics is served there alone (and
// closed with ln), without a token.
func serve(ctx context.Context, log *slog.Logger, st store.Store, cfg *config.Config, ln net.Listener, every time.Duration, mln net.Listener) error {
	now := time.Now // the one clock of the process
	eng, err := app.Engine(st, cfg, log, now)
	if err != nil {
		return err
	}
	wfOpt := workflow.Options{Log: log, Now: now}
	if eng != nil {
		wfOpt.RevokesSessions = eng.RevokesSessions
	}
	wf, err := workflow.New(st, cfg, wfOpt)
	if err != nil {
		return err
	}
	// Notifications: the outbox is delivered even when nothing is configured
	// any more (its messages then fail, saying what is missing).
	nw, err := notify.NewWorker(st, cfg.Notifications, notify.Options{Log: log, Now: now})
	if err != nil {
		return err
	}
	sign := signin.New(signin.Options{Store: st, Config: cfg, Logger: log, Now: now})
	h := api.New(api.Options{Store: st, Config: cfg, Logger: log, Now: now, Version: version, Engine: eng,
		Imports: app.Imports(st, cfg, eng, now), MetricsElsewhere: mln != nil, BaseURL: publicURL(cfg, ln),
		Sessions: sign, SignIn: sign.Handler()})
	if mln != nil {
		msrv := &http.Server{Handler: h.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = msrv.Serve(mln) }()
		defer msrv.Close()
		log.Info("metrics listening", "addr", mln.Addr().String())
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // a 64 MiB snapshot over a slow link
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	jobs := append(backgroundJobs(st, cfg, log, now, every, eng, wf, nw), runner.Job{Name: "workspace", Poll: workspaceEvery,
		RunOnce: func(ctx context.Context) (int, error) { return 0, h.Refresh(ctx) }})
	run, err := runner.New(log, time.After, jobs...)
	if err != nil {
		return err
	}
	bgCtx, stopBg := context.WithCancel(ctx)
	defer stopBg()
	// Passes in flight at shutdown finish (recording what they did) and
	// the jobs flush; both are cut drainTimeout after the shutdown begins.
	stopCtx, cutStop := context.WithCancel(context.Background())
	defer cutStop()
	bgDone := make(chan error, 1)
	go func() { bgDone <- run.Run(bgCtx, stopCtx) }()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "url", baseURL(ln.Addr()))

	select {
	case err = <-served:
		// The listener failed before any shutdown was asked for.
		err = fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
		log.Info("shutting down: draining requests in flight", "timeout", drainTimeout)
		sctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		if serr := srv.Shutdown(sctx); serr != nil {
			log.Warn("drain timed out; closing remaining connections", "err", serr)
			if cerr := srv.Close(); cerr != nil {
				log.Warn("closing connections", "err", cerr)
			}
		}
		cancel()
		if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = serr
		}
	}
	stopBg()
	cut := time.AfterFunc(drainTimeout, cutStop)
	defer cut.Stop()
	bgErr := <-bgDone
	// No request is served any more: write what the server still buffers.
	fctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	err = errors.Join(err, bgErr, h.Close(fctx))
	if err == nil {
		log.Info("stopped")
	}
	return err
}

// backgroundJobs are the jobs serve runs: the scheduler every interval,
// then the workflow, the notification outbox and (with apps) provisioning.
func backgroundJobs(st store.Store, cfg *config.Config, log *slog.Logger, now func() time.Time, every time.Duration,
	eng *provision.Engine, wf *workflow.Engine, nw *notify.Worker) []runner.Job {
	if every <= 0 {
		every = scheduler.DefaultEvery
	}
	req, err := request.NewService(st, cfg, now)
	if err != nil {
		log.Error("scheduler: approval reminders and escalations unavailable", "err", err)
		req = nil
	}
	var plan scheduler.Planner
	if eng != nil {
		plan = eng
	}
	sched := scheduler.New(st, req, plan, log, now)
	if rsvc, err := review.New(st, cfg, review.Options{Now: now}); err != nil {
		log.Error("scheduler: access reviews unavailable", "err", err)
	} else {
		r := scheduler.Reviews{Service: rsvc}
		if eng != nil {
			r.Reader = eng
		}
		sched.WithReviews(r)
	}
	jobs := []runner.Job{{Name: "scheduler", RunOnce: sched.RunOnce, Poll: every}, wf.Job(), nw.Job()}
	if eng != nil {
		log.Info("provisioning", "apps", len(eng.Apps()))
		j := eng.Job()
		j.Stop = func(context.Context) error { eng.Close(); return nil }
		jobs = append(jobs, j)
	}
	if j, ok := checkpointJob(st, cfg, log, now); ok {
		jobs = append(jobs, j)
	}
	if ix, ok := st.(interface{ RefreshPeopleSearch(context.Context) error }); ok {
		// Keeps people search's index of names up to date off the request
		// path: the search after an import need not rebuild it.
		jobs = append(jobs, runner.Job{Name: "search-index", Poll: searchIndexEvery,
			RunOnce: func(ctx context.Context) (int, error) { return 0, ix.RefreshPeopleSearch(ctx) }})
	}
	return jobs
}

// workspaceEvery is how often the server does the slow pages' work off
// the request path (api.Server.Refresh: each part at its own pace).
const workspaceEvery = 30 * time.Second

// searchIndexEvery is how often the server checks whether people search's
// index needs rebuilding (one read of a counter).
const searchIndexEvery = 2 * time.Second

// publicURL is the URL absolute links start with: server.base_url, else
// the address listened on.
func publicURL(cfg *config.Config, ln net.Listener) string {
	if cfg.Server.BaseURL != "" {
		return cfg.Server.BaseURL
	}
	return strings.TrimSuffix(baseURL(ln.Addr()), "/")
}

// baseURL is the URL a person on this machine uses to reach addr.
func baseURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// The demo's admin token name; each start revokes the previous one.
const demoTokenName = "demo-admin"

// demoConfig is the config the demo writes into its directory.
const demoConfig = `# Tango demo configuration, written by ` + "`tango demo`" + `. Edit freely: the demo keeps it.
org: {name: DTAA, timezone: America/New_York}
sources:
  - name: hris
    kind: file
    format: csv
    key: user_id
    mapping:
      display_name: employee_name
      email: email
      title: role
      department: department
      team: team
      business_unit: business_unit
      functional_unit: functional_unit
      projects: projects
      manager: supervisor
      employment_type: "'employee'"
    safeguards: {max_leavers: "5%"}
# An app nobody can automate: each change becomes a task for IT that names it
# (see tango tasks list --team it). Add ldap, scim or webhook apps the same way.
apps:
  - name: admin-console
    connector: manual
    owner: it
    # What employees may ask for (tango requests create): the manager, then
    # the owner, then Security for high risk approve.
    requestable:
      - {entitlement: audit-log-viewer, owner: WFV0687, risk: high, max_duration: 30d}
      - {entitlement: helpdesk, owner: WFV0687, risk: low, max_duration: 90d}
roles:
  - name: it-admins
    when: person.title == "ITAdmin" && person.status == "active"
    grants: [{app: admin-console, entitlements: [global-admin]}]
requests:
  security_approvers: [PCK0271]
separation_of_duties:
  - name: admins-do-not-review-their-own-logs
    entitlements: ["admin-console:global-admin", "admin-console:audit-log-viewer"]
# Tango's own roles, following HR like everyone's access: a condition over
# the person, IdP groups or employee IDs. The demo prints a local sign-in
# for one person of each (and a manager and an employee).
authorization:
  roles:
    hr: {when: 'person.title == "HumanResourceSpecialist"'}
    it: {when: 'person.title == "ITAdmin"'}
    security: {people: [PCK0271]}
    admin: {people: [` + demoAdmin + `]}
`

// demoAuditConfig follows demoConfig in the demo's file: checkpoints
// signed with a key the demo makes in its directory.
const demoAuditConfig = `# Signed checkpoints of the audit trail's head, kept outside the database
# (tango audit verify checks the trail against them). The demo made the key.
audit:
  checkpoint:
    signing_key: ${file:` + demoKeyFile + `}
    every: 15m
    sink: {file: audit-checkpoints.jsonl}
`

// demoKeyFile is the demo's checkpoint signing key, in its directory.
const demoKeyFile = "audit-signing.key"

// demoAdmin is the sample person the demo config gives the admin role.
const demoAdmin = "WFV0687"

// demoPersonas are the sample persons the demo gives a local password,
// one for each persona of the workspace: their roles come from the demo
// config's authorization section and the HR data.
var demoPersonas = []struct{ Persona, ID string }{
	{"admin", demoAdmin},    // admin; an ITAdmin, so it too
	{"hr", "OAJ0244"},       // a HumanResourceSpecialist
	{"it", "OCW1127"},       // an ITAdmin
	{"security", "PCK0271"}, // Security's approver
	{"manager", "CKP0213"},  // a purchasing manager with five reports
	{"employee", "SNC0218"}, // one of them
}

// demoSignIn is one printed local sign-in.
type demoSignIn struct{ Persona, ID, Name, Password string }

func demoCmd(g *globals) *cobra.Command {
	var f serveFlags
	var dir string
	c := &cobra.Command{
		Use:   "demo [--addr 127.0.0.1:8080] [--dir DIR]",
		Short: "Run Tango on an embedded database with a sample organisation",
		Long: `Creates (or reuses) an embedded SQLite database and a config in DIR
(default: a fresh temporary directory), imports the sample organisation
DTAA (2000 persons, from the synthetic CERT Insider Threat Test Dataset
r5.2) unless DIR already holds persons, creates an admin bearer token named
demo-admin (revoking the one of an earlier start), prints the URL, the token
and a curl example, then serves exactly as ` + "`tango serve`" + ` does.
--db and --config are ignored: the demo keeps everything in DIR.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			ctx := cmd.Context()
			log, err := f.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			// Bind first: a busy port fails before anything is created.
			ln, err := net.Listen("tcp", f.addr)
			if err != nil {
				return fmt.Errorf("--addr %s: %w", f.addr, err)
			}
			served := false
			defer func() {
				if !served {
					ln.Close()
				}
			}()
			if dir == "" {
				if dir, err = os.MkdirTemp("", "tango-demo-"); err != nil {
					return err
				}
				// A temporary directory of ours goes again when the demo
				// fails before serving; a --dir the user gave never does.
				tmp := dir
				defer func() {
					if !served {
						os.RemoveAll(tmp)
					}
				}()
			} else if err := os.MkdirAll(dir, 0o700); err != nil {
				return fmt.Errorf("--dir %s: %w", dir, err)
			}
			if dir, err = filepath.Abs(dir); err != nil {
				return err
			}
			cfgPath := filepath.Join(dir, "tango.yaml")
			if err := demoSigningKey(dir); err != nil {
				return fmt.Errorf("the demo's audit signing key: %w", err)
			}
			if _, err := os.Stat(cfgPath); errors.Is(err, os.ErrNotExist) {
				if err := os.WriteFile(cfgPath, []byte(demoConfig+demoAuditConfig), 0o600); err != nil {
					return fmt.Errorf("writing the demo config: %w", err)
				}
			}
			cfg, err := app.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			dsn := "sqlite:" + filepath.Join(dir, "tango.db")
			st, err := app.OpenStore(ctx, dsn)
			if err != nil {
				return err
			}
			defer st.Close()
			loaded, err := loadSample(ctx, st, cfg)
			if err != nil {
				return err
			}
			now := time.Now()
			if err := auth.RevokeToken(ctx, st, demoTokenName, now); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			tok, _, err := auth.CreateFor(ctx, st, demoTokenName, "admin", "", now, "hr", "it", "security", "auditor", "admin")
			if err != nil {
				return err
			}
			// A local sign-in for each persona, new at each start (none
			// for a person a reused database does not hold).
			var signIns []demoSignIn
			sign := signin.New(signin.Options{Store: st, Config: cfg, Logger: log})
			for _, p := range demoPersonas {
				password := signin.GeneratePassword()
				if err := sign.SetPassword(ctx, p.ID, password, "system:demo"); err != nil {
					log.Warn("no local sign-in for a demo persona", "persona", p.Persona, "person", p.ID, "err", err)
					continue
				}
				name := ""
				if src, err := cfg.Source("hris"); err == nil {
					if per, err := st.Person(ctx, src.Name, p.ID); err == nil {
						name = per.DisplayName
					}
				}
				signIns = append(signIns, demoSignIn{Persona: p.Persona, ID: p.ID, Name: name, Password: password})
			}
			url := baseURL(ln.Addr())
			printDemo(cmd.OutOrStdout(), demoInfo{Dir: dir, DSN: dsn, Config: cfgPath, URL: url, Token: tok, Loaded: loaded, CLI: cliCommand(),
				SignIns: signIns})
			served = true
			mln, err := f.metricsListener()
			if err != nil {
				return err
			}
			return serve(ctx, log, st, cfg, ln, f.every, mln)
		},
	}
	f.register(c)
	c.Flags().StringVar(&dir, "dir", "", "directory for the demo database and config (default: a fresh temporary directory; reused when given again)")
	return c
}

// loadSample imports the embedded sample organisation into an empty store
// and says what it did ("" when persons were already there).
func loadSample(ctx context.Context, st store.Store, cfg *config.Config) (string, error) {
	ps, err := st.Persons(ctx, store.PersonFilter{Limit: 1})
	if err != nil {
		return "", err
	}
	if len(ps) > 0 {
		return "", nil
	}
	src, err := cfg.Source("")
	if err != nil {
		return "", err
	}
	res, err := app.Imports(st, cfg, nil, time.Now).Import(ctx, hr.File{Source: src, Name: sample.Name, Data: sample.Snapshot, Actor: "system:demo"})
	if err != nil {
		return "", fmt.Errorf("importing the sample organisation: %w", err)
	}
	if res.Status != store.ImportApplied {
		msg := res.Reason
		if len(res.Errors) > 0 {
			msg = res.Errors[0].Error()
		}
		return "", fmt.Errorf("importing the sample organisation into source %q: %s: %s (is the mapping in the demo config right?)", src.Name, res.Status, msg)
	}
	return fmt.Sprintf("%s: %d persons imported from %s (import %s)", sample.Org, res.Joiners, sample.Name, res.ImportID), nil
}

type demoInfo struct {
	Dir, DSN, Config, URL, Token, Loaded string
	// SignIns are the local sign-ins at URL/login, one per persona.
	SignIns []demoSignIn
	// CLI is how the printed commands run tango (see invocation).
	CLI string
}

// nextSnapshot is the month after the sample, in a clone of the repository.
const nextSnapshot = "testdata/cert-r5.2-ldap/2010-01.csv"

func printDemo(w io.Writer, d demoInfo) {
	org := "reusing the persons already in the database"
	if d.Loaded != "" {
		org = d.Loaded
	}
	q := shellQuote
	cli := d.CLI
	if cli == "" {
		cli = "tango"
	}
	snapshot := nextSnapshot
	where := ""
	if _, err := os.Stat(nextSnapshot); err != nil {
		where = " (from the root of a clone of the repository)"
	}
	prefix := cli + " --db " + q(d.DSN) + " --config " + q(d.Config)
	signIn := ""
	if len(d.SignIns) > 0 {
		var sb strings.Builder
		fmt.Fprintf(&sb, "  sign in       %slogin with one of these local accounts (new passwords at each start):\n", d.URL)
		for _, p := range d.SignIns {
			fmt.Fprintf(&sb, "    %-9s %s  password %s   %s\n", p.Persona, p.ID, p.Password, p.Name)
		}
		signIn = sb.String()
	}
	fmt.Fprintf(w, `Tango demo
  organisation  %s
                (synthetic data: CERT Insider Threat Test Dataset r5.2, DOI 10.1184/R1/12841247)
  data          %s   (start again with --dir %s to keep it)
  URL           %s
  login         %s
                (admin bearer token %q, shown once; each demo start replaces it)
%s
Try the API:
  curl -H 'Authorization: Bearer %s' '%sapi/v1/persons?limit=2'

Work on the same data from the command line in another shell, for example the next month's snapshot%s:
  %[11]s hr import %[12]s
or an access request by an employee, approved by their manager:
  %[11]s requests create --as MMK1532 --app admin-console --entitlement helpdesk --justification 'covering the service desk'
  %[11]s requests approve 1 --as YNC1336

Stop with Ctrl-C.
`, org, d.Dir, q(d.Dir), d.URL, d.Token, demoTokenName, signIn, d.Token, d.URL, where, prefix, snapshot)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

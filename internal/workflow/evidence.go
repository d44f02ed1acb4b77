package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/notify"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/task"
)

// ErrEvidence is returned when evidence does not fit what a task needs.
var ErrEvidence = domain.E(domain.KindInvalid, "evidence refused")

var fileRE = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

// CheckEvidence checks evidence against a kind:
//   - attestation: a statement that says what is attested ("I attest that …");
//   - text: any non-empty text;
//   - reference: one token naming a ticket, receipt or URL, with a digit or "://" (CHG-1042, https://…);
//   - file: a file fingerprint as FileEvidence makes it ("file:NAME sha256:HEX …").
func CheckEvidence(kind, evidence string) error {
	e := strings.TrimSpace(evidence)
	if e == "" {
		return fmt.Errorf("%w: the evidence is empty; this task needs %s", ErrEvidence, describe(kind))
	}
	switch kind {
	case "", store.EvidenceText:
		return nil
	case store.EvidenceAttestation:
		if !strings.Contains(strings.ToLower(e), "attest") || len(e) < 12 {
			return fmt.Errorf("%w: this task needs an attestation: a statement such as \"I attest that …\"", ErrEvidence)
		}
	case store.EvidenceReference:
		if strings.ContainsAny(e, " \t\n") || !(strings.ContainsAny(e, "0123456789") || strings.Contains(e, "://")) {
			return fmt.Errorf("%w: this task needs a reference: one ticket, receipt or URL such as CHG-1042", ErrEvidence)
		}
	case store.EvidenceFile:
		if !fileRE.MatchString(e) {
			return fmt.Errorf("%w: this task needs a file: attach it with --file PATH (its SHA-256 is recorded)", ErrEvidence)
		}
	default:
		return fmt.Errorf("%w: unknown evidence kind %q", ErrEvidence, kind)
	}
	return nil
}

func describe(kind string) string {
	switch kind {
	case store.EvidenceAttestation:
		return "an attestation (\"I attest that …\")"
	case store.EvidenceReference:
		return "a reference (a ticket, receipt or URL)"
	case store.EvidenceFile:
		return "a file (--file PATH)"
	}
	return "a text saying what was done"
}

// FileEvidence fingerprints a file as evidence: its name, SHA-256 and size.
func FileEvidence(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("evidence file: %w", err)
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("file:%s sha256:%s bytes:%d", filepath.Base(path), hex.EncodeToString(sum[:]), len(b)), nil
}

// Complete closes a human task with evidence of the kind it needs; never
// by the person it is about (task.ErrAboutThemselves).
// Automated tasks are completed by the engine only. Completing the last
// open task of a case closes the case.
func Complete(ctx context.Context, st Store, id int64, evidence, actor string, at time.Time) (store.CaseTask, error) {
	t, err := st.CaseTask(ctx, id)
	if err != nil {
		return t, err
	}
	if t.Kind == store.TaskAuto && t.Case != 0 {
		return t, fmt.Errorf("task %d (%s) is automated: the workflow engine completes it: %w", id, t.Title, store.ErrConflict)
	}
	if t.Status != store.TaskOpen {
		return t, fmt.Errorf("task %d is %s, not open: %w", id, t.Status, store.ErrConflict)
	}
	if err := task.NotAboutThemselves(t, task.ActorPerson(actor), "complete"); err != nil {
		return t, err
	}
	if err := CheckEvidence(t.EvidenceKind, evidence); err != nil {
		return t, fmt.Errorf("task %d (%s): %w", id, t.Title, err)
	}
	return task.Complete(ctx, st, id, evidence, actor, at)
}

// ErrUnknownOwner refuses a reassignment to a team or person Tango does
// not know: the task would fall out of every queue.
var ErrUnknownOwner = domain.E(domain.KindInvalid, "unknown owner")

// Teams are the teams cfg knows: hr, it and security, every team a
// playbook step names (app_owner stands for the apps' owners), the owners
// and teams of apps, and the teams with notification contacts or leads.
func Teams(cfg *config.Config) ([]string, error) {
	set := map[string]bool{"hr": true, "it": true, "security": true}
	pb, err := Parse(cfg)
	if err != nil {
		return nil, err
	}
	for _, kind := range Kinds {
		for _, s := range pb.Book(kind).Steps {
			if s.Team != "" && s.Team != TeamAppOwner {
				set[s.Team] = true
			}
		}
	}
	for team := range pb.TeamLeads {
		set[team] = true
	}
	if cfg != nil {
		for _, a := range cfg.Apps {
			if a.Owner != "" {
				set[a.Owner] = true
			}
			if team, ok := a.Settings["team"].(string); ok && team != "" {
				set[team] = true
			}
		}
		for team := range cfg.Notifications.Teams {
			set[team] = true
		}
	}
	teams := make([]string, 0, len(set))
	for team := range set {
		teams = append(teams, team)
	}
	sort.Strings(teams)
	return teams, nil
}

// Reassign gives an open task to another team (and assignee) and tells its
// new owner (notifications configured in cfg), in one transaction. The
// team must be one of Teams and the assignee an active person of the
// task's source; otherwise the error is ErrUnknownOwner, naming the known
// teams.
func Reassign(ctx context.Context, st Store, cfg *config.Config, id int64, team, assignee, actor string, at time.Time) (store.CaseTask, error) {
	teams, err := Teams(cfg)
	if err != nil {
		return store.CaseTask{}, err
	}
	if !slices.Contains(teams, team) {
		return store.CaseTask{}, fmt.Errorf("team %q is not known (known teams: %s; a team is known from the playbooks, apps[].owner or notifications.teams): %w",
			team, strings.Join(teams, ", "), ErrUnknownOwner)
	}
	t, err := st.CaseTask(ctx, id)
	if err != nil {
		return t, err
	}
	if t.Status != store.TaskOpen {
		return t, fmt.Errorf("task %d is %s, not open: %w", id, t.Status, store.ErrConflict)
	}
	if assignee != "" {
		p, err := st.Person(ctx, t.Source, assignee)
		if errors.Is(err, store.ErrNotFound) {
			return t, fmt.Errorf("assignee %q: no person with that employee ID in source %q: %w", assignee, t.Source, ErrUnknownOwner)
		}
		if err != nil {
			return t, err
		}
		if p.Status != store.StatusActive {
			return t, fmt.Errorf("assignee %q is %s, not active: %w", assignee, p.Status, ErrUnknownOwner)
		}
	}
	var notes []store.Notification
	if p := notify.NewPlanner(st, cfg); p != nil {
		from := notify.OwnerOf(t)
		t.Team, t.Assignee = team, assignee
		notes, err = p.Reassigned(ctx, t, fmt.Sprintf("This task was given to you (it was %s's).", ownerLabel(from)))
		if err != nil {
			return t, err
		}
	}
	return ReassignTask(ctx, st, id, team, assignee, actor, at, notes...)
}

func ownerLabel(o notify.Owner) string {
	if o.Person != "" {
		return o.Person
	}
	return o.Team
}

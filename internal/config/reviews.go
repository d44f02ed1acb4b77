package config

import (
	"fmt"
	"strings"
	"time"
)

// Reviews configures access reviews (tango reviews).
type Reviews struct {
	// PaceDecisions and PaceWindow: a reviewer who decides more than
	// PaceDecisions items within PaceWindow is rubber-stamping, a finding
	// for Security. Defaults: 50 within 1m.
	PaceDecisions int    `yaml:"pace_decisions"`
	PaceWindow    string `yaml:"pace_window"`
	// Campaigns are recurring campaigns the scheduler starts.
	Campaigns []ReviewCampaign `yaml:"campaigns"`
	// InactiveAfter: an item whose account was last used (as its app
	// reported to reconcile) this long before the campaign started is
	// recommended for revocation as inactive. Default 90d.
	InactiveAfter string `yaml:"inactive_after"`
	// RemindBefore: this long before an open campaign's deadline each
	// reviewer with pending items is reminded, once per campaign.
	// Default 3d; "0s" turns review reminders off.
	RemindBefore string `yaml:"remind_before"`
	// EscalateBefore: this long before the deadline a pending item whose
	// reviewer is a person is escalated to that reviewer's manager, who
	// may then decide it. Default 2d; "0s" turns escalation off.
	EscalateBefore string `yaml:"escalate_before"`
}

// Defaults of the reminder and the escalation before a campaign's
// deadline.
const (
	DefaultReviewRemindBefore   = 3 * 24 * time.Hour
	DefaultReviewEscalateBefore = 2 * 24 * time.Hour
)

// Reminder is reviews.remind_before with its default; 0: never. finish
// has checked it.
func (r Reviews) Reminder() time.Duration {
	return durationOr(r.RemindBefore, DefaultReviewRemindBefore)
}

// Escalation is reviews.escalate_before with its default; 0: never.
// finish has checked it.
func (r Reviews) Escalation() time.Duration {
	return durationOr(r.EscalateBefore, DefaultReviewEscalateBefore)
}

func durationOr(s string, def time.Duration) time.Duration {
	if s = strings.TrimSpace(s); s == "" {
		return def
	}
	d, err := offOrDuration(s)
	if err != nil {
		return def
	}
	return d
}

// offOrDuration parses a positive length of time, or zero ("0s", "0d"):
// off.
func offOrDuration(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil && d == 0 || s == "0d" {
		return 0, nil
	}
	return ParseDuration(s)
}

// DefaultInactiveAfter is how long an account may go unused before a
// review recommends revoking it, unless configured.
const DefaultInactiveAfter = 90 * 24 * time.Hour

// Inactive is reviews.inactive_after with its default; finish has
// checked it.
func (r Reviews) Inactive() time.Duration {
	if s := strings.TrimSpace(r.InactiveAfter); s != "" {
		if d, err := ParseDuration(s); err == nil && d > 0 {
			return d
		}
	}
	return DefaultInactiveAfter
}

// ReviewCampaign is a recurring campaign: the scheduler starts one when
// the last one of this definition started Every ago, or never did.
type ReviewCampaign struct {
	// Name identifies the definition (default: kind, app and entitlement,
	// such as "app:crm"); renaming it starts the clock afresh.
	Name        string `yaml:"name"`
	Kind        string `yaml:"kind"` // manager | app | entitlement
	App         string `yaml:"app"`
	Entitlement string `yaml:"entitlement"`
	Team        string `yaml:"team"`
	Every       string `yaml:"every"`     // required: 90d
	Due         string `yaml:"due"`       // default 14d
	Undecided   string `yaml:"undecided"` // keep (default) | revoke
}

// Key is the definition's name: Name, else kind:app:entitlement.
func (c ReviewCampaign) Key() string {
	if n := strings.TrimSpace(c.Name); n != "" {
		return n
	}
	k := strings.TrimSpace(c.Kind)
	for _, s := range []string{c.App, c.Entitlement} {
		if s = strings.TrimSpace(s); s != "" {
			k += ":" + s
		}
	}
	return k
}

// Period is every; finish has checked it.
func (c ReviewCampaign) Period() time.Duration {
	d, _ := ParseDuration(strings.TrimSpace(c.Every))
	return d
}

// DueIn is due (default 14 days); finish has checked it.
func (c ReviewCampaign) DueIn() time.Duration {
	if s := strings.TrimSpace(c.Due); s != "" {
		d, _ := ParseDuration(s)
		return d
	}
	return 14 * 24 * time.Hour
}

// Default pace of review decisions.
const (
	DefaultReviewPaceDecisions = 50
	DefaultReviewPaceWindow    = time.Minute
)

// Pace is reviews.pace_decisions and reviews.pace_window with their
// defaults; finish has checked them.
func (r Reviews) Pace() (int, time.Duration) {
	n, w := r.PaceDecisions, DefaultReviewPaceWindow
	if n == 0 {
		n = DefaultReviewPaceDecisions
	}
	if s := strings.TrimSpace(r.PaceWindow); s != "" {
		if d, err := ParseDuration(s); err == nil {
			w = d
		}
	}
	return n, w
}

func (r Reviews) check(apps []App, bad func(string, ...any)) {
	seen := map[string]int{}
	for i, c := range r.Campaigns {
		at := fmt.Sprintf("reviews.campaigns[%d]", i)
		kind := strings.TrimSpace(c.Kind)
		app, ent := strings.TrimSpace(c.App), strings.TrimSpace(c.Entitlement)
		switch kind {
		case "manager":
		case "app", "entitlement":
			if app == "" {
				bad("%s.app: kind %s needs the app whose access is reviewed", at, kind)
			}
			if kind == "entitlement" && ent == "" {
				bad("%s.entitlement: kind entitlement needs the entitlement reviewed", at)
			}
		default:
			bad("%s.kind %q: want manager, app or entitlement", at, c.Kind)
		}
		if app != "" {
			found := false
			for _, a := range apps {
				found = found || a.Name == app
			}
			if !found {
				bad("%s.app %q: no such app in apps", at, app)
			}
		}
		if s := strings.TrimSpace(c.Every); s == "" {
			bad("%s.every: required, how often a campaign starts (such as 90d)", at)
		} else if d, err := ParseDuration(s); err != nil || d <= 0 {
			bad("%s.every %q: want a positive length of time such as 90d", at, s)
		}
		if s := strings.TrimSpace(c.Due); s != "" {
			if d, err := ParseDuration(s); err != nil || d <= 0 {
				bad("%s.due %q: want a positive length of time such as 14d", at, s)
			}
		}
		if u := strings.TrimSpace(c.Undecided); u != "" && u != "keep" && u != "revoke" {
			bad("%s.undecided %q: want keep or revoke", at, c.Undecided)
		}
		if j, dup := seen[c.Key()]; dup {
			bad("%s: same name %q as reviews.campaigns[%d] (set name: to tell them apart)", at, c.Key(), j)
		}
		seen[c.Key()] = i
	}
	if s := strings.TrimSpace(r.InactiveAfter); s != "" {
		if d, err := ParseDuration(s); err != nil || d <= 0 {
			bad("reviews.inactive_after %q: want a positive length of time such as 90d", s)
		}
	}
	for _, k := range []struct{ key, val, eg string }{{"remind_before", r.RemindBefore, "3d"}, {"escalate_before", r.EscalateBefore, "2d"}} {
		if s := strings.TrimSpace(k.val); s != "" {
			if _, err := offOrDuration(s); err != nil {
				bad("reviews.%s %q: want a length of time such as %s (0s: never)", k.key, s, k.eg)
			}
		}
	}
	if rem, esc := r.Reminder(), r.Escalation(); rem > 0 && esc > 0 && rem <= esc {
		bad("reviews.remind_before %s: must be longer than reviews.escalate_before %s (reviewers are reminded before their items escalate)", rem, esc)
	}
	if r.PaceDecisions < 0 {
		bad("reviews.pace_decisions %d: want a positive number (default %d)", r.PaceDecisions, DefaultReviewPaceDecisions)
	}
	if s := strings.TrimSpace(r.PaceWindow); s != "" {
		if d, err := ParseDuration(s); err != nil || d <= 0 {
			bad("reviews.pace_window %q: want a positive length of time such as 1m", s)
		}
	}
}

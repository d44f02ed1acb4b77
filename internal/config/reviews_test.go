package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/config"
)

func TestReviewsPace(t *testing.T) {
	c, err := config.Parse([]byte("reviews: {pace_decisions: 20, pace_window: 30s}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if n, w := c.Reviews.Pace(); n != 20 || w != 30*time.Second {
		t.Fatalf("pace %d in %s, want 20 in 30s", n, w)
	}
	c, _ = config.Parse([]byte("org: {name: x}\n"), "t.yaml")
	if n, w := c.Reviews.Pace(); n != 50 || w != time.Minute {
		t.Fatalf("default pace %d in %s, want 50 in 1m", n, w)
	}
	_, err = config.Parse([]byte("reviews: {pace_decisions: -1, pace_window: soon}\n"), "t.yaml")
	if err == nil || !strings.Contains(err.Error(), "reviews.pace_decisions") || !strings.Contains(err.Error(), "reviews.pace_window") {
		t.Fatalf("bad pace: %v, want both keys named", err)
	}
}

func TestReviewCampaigns(t *testing.T) {
	c, err := config.Parse([]byte(`
apps: [{name: crm, connector: manual}]
reviews:
  campaigns:
    - {kind: app, app: crm, every: 90d, due: 14d, undecided: keep}
    - {kind: manager, every: 180d}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cs := c.Reviews.Campaigns
	if len(cs) != 2 || cs[0].Key() != "app:crm" || cs[0].Period() != 90*24*time.Hour || cs[0].DueIn() != 14*24*time.Hour ||
		cs[1].Key() != "manager" || cs[1].DueIn() != 14*24*time.Hour {
		t.Fatalf("campaigns %+v", cs)
	}
	_, err = config.Parse([]byte(`
apps: [{name: crm, connector: manual}]
reviews:
  campaigns:
    - {kind: app, app: erp, every: soon, due: -1d, undecided: maybe}
    - {kind: everyone}
    - {kind: entitlement, app: crm, every: 30d}
    - {kind: manager, every: 1d}
    - {kind: manager, every: 2d}
`), "t.yaml")
	for _, want := range []string{`reviews.campaigns[0].app "erp"`, `reviews.campaigns[0].every "soon"`, `reviews.campaigns[0].due "-1d"`,
		`reviews.campaigns[0].undecided "maybe"`, `reviews.campaigns[1].kind "everyone"`, "reviews.campaigns[1].every: required",
		"reviews.campaigns[2].entitlement", `reviews.campaigns[4]: same name "manager"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v: want it to name %s", err, want)
		}
	}
}

func TestReviewsReminderAndEscalation(t *testing.T) {
	c, _ := config.Parse([]byte("org: {name: x}\n"), "t.yaml")
	if r, e := c.Reviews.Reminder(), c.Reviews.Escalation(); r != 3*24*time.Hour || e != 2*24*time.Hour {
		t.Fatalf("defaults: remind %s, escalate %s; want 3d and 2d", r, e)
	}
	c, err := config.Parse([]byte("reviews: {remind_before: 5d, escalate_before: 0s}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if r, e := c.Reviews.Reminder(), c.Reviews.Escalation(); r != 5*24*time.Hour || e != 0 {
		t.Fatalf("remind %s, escalate %s; want 5d and off", r, e)
	}
	for in, want := range map[string]string{
		"reviews: {remind_before: soon}":                    `reviews.remind_before "soon"`,
		"reviews: {escalate_before: -1h}":                   `reviews.escalate_before "-1h"`,
		"reviews: {remind_before: 1d, escalate_before: 2d}": "must be longer than reviews.escalate_before",
	} {
		if _, err := config.Parse([]byte(in+"\n"), "t.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming %s", in, err, want)
		}
	}
}

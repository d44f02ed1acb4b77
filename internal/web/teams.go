package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// bar is one bar of a chart.
type bar struct {
	Label, Text string
	Y           int
	X, W, TextX float64
	Fill        string
}

// chart is a horizontal bar chart drawn as SVG on the server.
type chart struct {
	ID, Title string
	Height    int
	Bars      []bar
}

const (
	chartLabelW = 240.0
	chartBarW   = 360.0
	chartRow    = 26
)

// barChart scales values to the widest bar; text is what each bar says.
func barChart(id, title string, labels []string, values []float64, texts []string, fills []string) chart {
	c := chart{ID: id, Title: title, Height: chartRow*len(labels) + 6}
	top := 0.0
	for _, v := range values {
		top = math.Max(top, v)
	}
	for i, l := range labels {
		w := 0.0
		if top > 0 {
			w = math.Max(values[i]/top*chartBarW, 1)
		}
		c.Bars = append(c.Bars, bar{Label: l, Text: texts[i], Y: i*chartRow + 4, X: chartLabelW, W: math.Round(w), TextX: chartLabelW + math.Round(w) + 6, Fill: fills[i%len(fills)]})
	}
	return c
}

// clockStats are the median, 90th percentile and longest of finished
// clocks, and how many still run.
type clockStats struct {
	N, Waiting    int
	P50, P90, Max time.Duration
}

func stats(ds []time.Duration, waiting int) clockStats {
	s := clockStats{N: len(ds), Waiting: waiting}
	if len(ds) == 0 {
		return s
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	q := func(f float64) time.Duration {
		return ds[max(0, min(int(math.Ceil(f*float64(len(ds))))-1, len(ds)-1))]
	}
	s.P50, s.P90, s.Max = q(0.5), q(0.9), ds[len(ds)-1]
	return s
}

func human(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d >= 48*time.Hour:
		s = fmt.Sprintf("%.1fd", d.Hours()/24)
	case d >= time.Hour:
		s = fmt.Sprintf("%.1fh", d.Hours())
	default:
		s = d.Round(time.Second).String()
	}
	if neg {
		s = "-" + s + " (before)"
	}
	return s
}

type teamsData struct {
	Tasks  []store.TeamTasks
	Charts []chart
	At     time.Time // when the figures were computed
}

// teams shows each team's open and overdue tasks, and the lifecycle clocks
// over the last 30 and 90 days (time to revoke a leaver, time to day-one
// access, approval times) as charts drawn on the server.
func (pg *Pages) teams(w http.ResponseWriter, r *http.Request) {
	d, err := pg.teamsFigures(r.Context(), teamsEvery)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	pg.render(w, r, http.StatusOK, "teams", "Teams", d)
}

// teamsEvery is how long the figures of /teams are reused: they read every
// lifecycle event and operation of 90 days, the same for every viewer. The
// server's refresh job (Refresh) computes them every teamsEvery/2.
const teamsEvery = time.Minute

// teamsFigures returns the figures, computed again when they are age old
// (one computation at a time, without holding the cache: views meanwhile
// see the figures before).
func (pg *Pages) teamsFigures(ctx context.Context, age time.Duration) (teamsData, error) {
	tc := &pg.teamsCache
	fresh := func(now time.Time) (teamsData, bool) {
		tc.Lock()
		defer tc.Unlock()
		return tc.d, !tc.at.IsZero() && now.Sub(tc.at) < age && !now.Before(tc.at)
	}
	if d, ok := fresh(pg.o.Now()); ok {
		return d, nil
	}
	tc.computing.Lock()
	defer tc.computing.Unlock()
	now := pg.o.Now()
	if d, ok := fresh(now); ok { // computed by another caller meanwhile
		return d, nil
	}
	d, err := pg.computeTeams(ctx, now)
	if err != nil {
		return d, err
	}
	tc.Lock()
	tc.d, tc.at = d, now
	tc.Unlock()
	return d, nil
}

func (pg *Pages) computeTeams(ctx context.Context, now time.Time) (teamsData, error) {
	tasks, err := pg.o.Store.TaskLoad(ctx, now)
	if err != nil {
		return teamsData{}, err
	}
	d := teamsData{Tasks: tasks, At: now}
	if len(tasks) > 0 {
		var labels, texts []string
		var values []float64
		for _, t := range tasks {
			labels = append(labels, t.Team+" open")
			values = append(values, float64(t.Open))
			texts = append(texts, fmt.Sprint(t.Open))
			labels = append(labels, t.Team+" overdue")
			values = append(values, float64(t.Overdue))
			texts = append(texts, fmt.Sprint(t.Overdue))
		}
		d.Charts = append(d.Charts, barChart("tasks", "Open and overdue tasks per team", labels, values, texts, []string{"#1c4fb8", "#b3261e"}))
	}
	// One read of 90 days; the 30 days are its tail.
	since90 := now.Add(-90 * 24 * time.Hour)
	clocks90, err := pg.o.Store.LifecycleClocks(ctx, since90)
	if err != nil {
		return d, err
	}
	approvals90, err := pg.o.Store.ApprovalClocks(ctx, since90)
	if err != nil {
		return d, err
	}
	for _, days := range []int{30, 90} {
		since := now.Add(-time.Duration(days) * 24 * time.Hour)
		byKind := map[string][]time.Duration{}
		waiting := map[string]int{}
		var approvals []store.ApprovalClock
		for _, a := range approvals90 {
			if !a.DecidedAt.Before(since) {
				approvals = append(approvals, a)
			}
		}
		for _, c := range clocks90 {
			if c.Start.Before(since) {
				continue
			}
			if c.Done.IsZero() {
				waiting[c.Kind]++
				continue
			}
			byKind[c.Kind] = append(byKind[c.Kind], c.Done.Sub(c.Start))
		}
		for _, a := range approvals {
			byKind["approval"] = append(byKind["approval"], a.DecidedAt.Sub(a.CreatedAt))
		}
		var labels, texts []string
		var values []float64
		for _, k := range []struct{ kind, name string }{{store.ClockRevoke, "time to revoke"}, {store.ClockAccess, "time to day-one access"}, {"approval", "approval time"}} {
			s := stats(byKind[k.kind], waiting[k.kind])
			for _, p := range []struct {
				name string
				d    time.Duration
			}{{"median", s.P50}, {"90th", s.P90}} {
				labels = append(labels, k.name+" "+p.name)
				values = append(values, math.Max(p.d.Hours(), 0))
				t := human(p.d)
				if s.N == 0 {
					t = "none finished"
				}
				if s.Waiting > 0 {
					t += fmt.Sprintf(", %d still waiting", s.Waiting)
				}
				texts = append(texts, t)
			}
		}
		d.Charts = append(d.Charts, barChart(fmt.Sprintf("clocks-%d", days), fmt.Sprintf("Lifecycle clocks, last %d days", days), labels, values, texts, []string{"#2b8a3e", "#5c940d"}))
	}
	return d, nil
}

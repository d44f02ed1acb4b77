package api

import (
	"context"
	"math"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// ClockWindow is how far back /metrics looks for lifecycle clocks.
const ClockWindow = 30 * 24 * time.Hour

// ClockSummary summarises one lifecycle clock over a window. Durations
// are in seconds; time to access is negative when the accounts were ready
// before the start date.
type ClockSummary struct {
	// Count is the events whose clock stopped (every account done).
	Count       int     `json:"count"`
	MeanSeconds float64 `json:"mean_seconds"`
	P50Seconds  float64 `json:"p50_seconds"`
	P90Seconds  float64 `json:"p90_seconds"`
	MaxSeconds  float64 `json:"max_seconds"`
	SumSeconds  float64 `json:"-"`
	// Waiting is the events whose clock still runs (an operation pending,
	// running or failed); WaitingLongestSeconds how long the oldest runs.
	Waiting               int     `json:"waiting"`
	WaitingLongestSeconds float64 `json:"waiting_longest_seconds"`
}

// summarise computes the summary of the clocks of one kind at now.
func summarise(clocks []store.Clock, kind string, now time.Time) ClockSummary {
	var s ClockSummary
	var ds []float64
	for _, c := range clocks {
		if c.Kind != kind {
			continue
		}
		if c.Done.IsZero() {
			s.Waiting++
			s.WaitingLongestSeconds = math.Max(s.WaitingLongestSeconds, now.Sub(c.Start).Seconds())
			continue
		}
		ds = append(ds, c.Done.Sub(c.Start).Seconds())
	}
	s.Count = len(ds)
	if len(ds) == 0 {
		return s
	}
	sort.Float64s(ds)
	for _, d := range ds {
		s.SumSeconds += d
	}
	s.MeanSeconds = s.SumSeconds / float64(len(ds))
	s.P50Seconds, s.P90Seconds, s.MaxSeconds = quantile(ds, 0.5), quantile(ds, 0.9), ds[len(ds)-1]
	return s
}

// quantile is the nearest-rank quantile of sorted values.
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// ApprovalSummary is how long access requests took from creation to their
// last approval (approved in the window), and the pending ones now.
type ApprovalSummary struct {
	ClockSummary
	store.RequestLoad
	// OldestPendingSeconds is how long the oldest pending request waits.
	OldestPendingSeconds float64 `json:"oldest_pending_seconds"`
}

func approvalSummary(ctx context.Context, st Store, since, now time.Time) (ApprovalSummary, error) {
	var a ApprovalSummary
	cs, err := st.ApprovalClocks(ctx, since)
	if err != nil {
		return a, err
	}
	clocks := make([]store.Clock, 0, len(cs))
	for _, c := range cs {
		clocks = append(clocks, store.Clock{Kind: "approval", Start: c.CreatedAt, Done: c.DecidedAt})
	}
	a.ClockSummary = summarise(clocks, "approval", now)
	if a.RequestLoad, err = st.RequestLoad(ctx, now); err != nil {
		return a, err
	}
	if !a.OldestPending.IsZero() {
		a.OldestPendingSeconds = now.Sub(a.OldestPending).Seconds()
	}
	return a, nil
}

// LifecycleMetrics is the body of GET /api/v1/metrics/lifecycle.
type LifecycleMetrics struct {
	Since         time.Time                 `json:"since,omitzero"`
	Now           time.Time                 `json:"now,omitzero"`
	TimeToRevoke  ClockSummary              `json:"time_to_revoke"`
	TimeToAccess  ClockSummary              `json:"time_to_access"`
	Tasks         []store.TeamTasks         `json:"tasks"`
	Approvals     ApprovalSummary           `json:"approvals"`
	Notifications map[string]map[string]int `json:"notifications"`
}

func (s *Server) lifecycleMetrics(w http.ResponseWriter, r *http.Request) {
	days := 30
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3660 {
			writeError(w, http.StatusBadRequest, "days "+strconv.Quote(v)+": want a whole number of days from 1 to 3660")
			return
		}
		days = n
	}
	now := s.now().UTC()
	m := LifecycleMetrics{Since: now.Add(-time.Duration(days) * 24 * time.Hour), Now: now}
	clocks, err := s.st.LifecycleClocks(r.Context(), m.Since)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m.TimeToRevoke, m.TimeToAccess = summarise(clocks, store.ClockRevoke, now), summarise(clocks, store.ClockAccess, now)
	if m.Approvals, err = approvalSummary(r.Context(), s.st, m.Since, now); err != nil {
		s.fail(w, r, err)
		return
	}
	if m.Tasks, err = s.st.TaskLoad(r.Context(), now); err != nil {
		s.fail(w, r, err)
		return
	}
	if m.Notifications, err = s.st.NotificationCounts(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := limitParam(r)
	if err == nil {
		err = oneOf("state", q.Get("state"), store.NotifyPending, store.NotifySending, store.NotifySent, store.NotifyFailed)
	}
	if err == nil {
		err = oneOf("channel", q.Get("channel"), store.ChannelEmail, store.ChannelWebhook)
	}
	if err == nil {
		err = oneOf("kind", q.Get("kind"), store.NotifyKinds...)
	}
	ids := map[string]int64{}
	for _, name := range []string{"case", "task", "request", "before"} {
		if v := q.Get(name); v != "" && err == nil {
			n, perr := strconv.ParseInt(v, 10, 64)
			if perr != nil || n < 1 {
				err = badRequest(name + " " + strconv.Quote(v) + ": want an id")
			}
			ids[name] = n
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ns, err := s.st.Notifications(r.Context(), store.NotificationFilter{State: q.Get("state"), Channel: q.Get("channel"),
		Kind: q.Get("kind"), Recipient: q.Get("recipient"), Case: ids["case"], Task: ids["task"], Request: ids["request"], BeforeID: ids["before"], Limit: limit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := Page[store.Notification]{Items: ns}
	if len(ns) == limit {
		page.Next = strconv.FormatInt(ns[len(ns)-1].ID, 10)
	}
	read := make([]string, len(ns))
	for i, n := range ns {
		read[i] = personOf(n.Recipient)
	}
	s.readPersons(r, read...)
	writeJSON(w, http.StatusOK, page)
}

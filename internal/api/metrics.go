package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tango-iga/tango/internal/store"
)

// storeCollector reads the store's counts at scrape time, so that every
// process sharing one database reports the same numbers.
type storeCollector struct {
	st  Store
	log *slog.Logger

	up, imports, events, persons, importSeconds, tasks    *prometheus.Desc
	revoke, access, waiting, waitingOldest, notifications *prometheus.Desc
	approvals, requests, requestOldest                    *prometheus.Desc
	now                                                   func() time.Time
}

func newStoreCollector(st Store, log *slog.Logger, now func() time.Time) *storeCollector {
	return &storeCollector{
		st: st, log: log, now: now,
		up: prometheus.NewDesc("tango_store_up",
			"1 when the last scrape could read the store's counts, 0 otherwise.", nil, nil),
		imports: prometheus.NewDesc("tango_imports_total",
			"HR imports stored, by status (applied, held, rejected: a held import discarded by a person).", []string{"status"}, nil),
		events: prometheus.NewDesc("tango_events_total",
			"Lifecycle events that took effect, by type.", []string{"type"}, nil),
		persons: prometheus.NewDesc("tango_persons",
			"Persons in the store, by lifecycle status.", []string{"status"}, nil),
		importSeconds: prometheus.NewDesc("tango_import_duration_seconds_total",
			"Total time spent computing and writing all stored imports.", nil, nil),
		tasks: prometheus.NewDesc("tango_tasks",
			"Open lifecycle tasks by owning team; state overdue counts those past their deadline, escalated those escalated.", []string{"team", "state"}, nil),
		revoke: prometheus.NewDesc("tango_time_to_revoke_seconds",
			"Leavers of the last 30 days: from the leaver event taking effect to their last account disabled.", nil, nil),
		access: prometheus.NewDesc("tango_time_to_access_seconds",
			"Joiners and rehires of the last 30 days: from the start date to their last account provisioned (negative: ready before).", nil, nil),
		waiting: prometheus.NewDesc("tango_lifecycle_waiting",
			"Lifecycle events of the last 30 days whose accounts are not all done yet, by clock (revoke, access).", []string{"clock"}, nil),
		waitingOldest: prometheus.NewDesc("tango_lifecycle_waiting_oldest_seconds",
			"How long the oldest still-running clock has been running, by clock (revoke, access).", []string{"clock"}, nil),
		approvals: prometheus.NewDesc("tango_request_approval_seconds",
			"Access requests approved in the last 30 days: from the request to its last approval (from the store: every process reports the same).", nil, nil),
		requests: prometheus.NewDesc("tango_requests_pending",
			"Pending access requests; state overdue counts those whose current step is past its deadline, escalated those escalated.", []string{"state"}, nil),
		requestOldest: prometheus.NewDesc("tango_requests_pending_oldest_seconds",
			"How long the oldest pending access request has been waiting.", nil, nil),
		notifications: prometheus.NewDesc("tango_notifications",
			"Notifications in the outbox by channel (email, webhook) and state (pending, sending, sent, failed).", []string{"channel", "state"}, nil),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.imports
	ch <- c.events
	ch <- c.persons
	ch <- c.importSeconds
	ch <- c.tasks
	ch <- c.revoke
	ch <- c.access
	ch <- c.waiting
	ch <- c.waitingOldest
	ch <- c.notifications
	ch <- c.approvals
	ch <- c.requests
	ch <- c.requestOldest
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := c.st.Counts(ctx)
	if err != nil {
		c.log.Warn("metrics: reading store counts failed", "err", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	emit := func(d *prometheus.Desc, t prometheus.ValueType, m map[string]int64, known ...string) {
		for _, k := range known {
			if _, ok := m[k]; !ok {
				ch <- prometheus.MustNewConstMetric(d, t, 0, k)
			}
		}
		for k, v := range m {
			ch <- prometheus.MustNewConstMetric(d, t, float64(v), k)
		}
	}
	emit(c.imports, prometheus.CounterValue, n.ImportsByStatus, store.ImportApplied, store.ImportHeld, store.ImportRejected)
	emit(c.events, prometheus.CounterValue, n.EventsByType, store.EventJoiner, store.EventMover, store.EventLeaver, store.EventRehire, store.EventChange)
	emit(c.persons, prometheus.GaugeValue, n.PersonsByStatus, store.StatusPrehire, store.StatusActive, store.StatusLeft)
	ch <- prometheus.MustNewConstMetric(c.importSeconds, prometheus.CounterValue, n.ImportSeconds)
	now := c.now()
	load, err := c.st.TaskLoad(ctx, now)
	if err != nil {
		c.log.Warn("metrics: reading open tasks failed", "err", err)
	}
	for _, t := range load {
		ch <- prometheus.MustNewConstMetric(c.tasks, prometheus.GaugeValue, float64(t.Open), t.Team, "open")
		ch <- prometheus.MustNewConstMetric(c.tasks, prometheus.GaugeValue, float64(t.Overdue), t.Team, "overdue")
		ch <- prometheus.MustNewConstMetric(c.tasks, prometheus.GaugeValue, float64(t.Escalated), t.Team, "escalated")
	}
	clocks, err := c.st.LifecycleClocks(ctx, now.Add(-ClockWindow))
	if err != nil {
		c.log.Warn("metrics: reading lifecycle clocks failed", "err", err)
	} else {
		for _, k := range []struct {
			kind string
			desc *prometheus.Desc
		}{{store.ClockRevoke, c.revoke}, {store.ClockAccess, c.access}} {
			s := summarise(clocks, k.kind, now)
			q := map[float64]float64{}
			if s.Count > 0 {
				q = map[float64]float64{0.5: s.P50Seconds, 0.9: s.P90Seconds, 1: s.MaxSeconds}
			}
			ch <- prometheus.MustNewConstSummary(k.desc, uint64(s.Count), s.SumSeconds, q)
			ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(s.Waiting), k.kind)
			ch <- prometheus.MustNewConstMetric(c.waitingOldest, prometheus.GaugeValue, s.WaitingLongestSeconds, k.kind)
		}
	}
	if a, err := approvalSummary(ctx, c.st, now.Add(-ClockWindow), now); err != nil {
		c.log.Warn("metrics: reading approval clocks failed", "err", err)
	} else {
		q := map[float64]float64{}
		if a.Count > 0 {
			q = map[float64]float64{0.5: a.P50Seconds, 0.9: a.P90Seconds, 1: a.MaxSeconds}
		}
		ch <- prometheus.MustNewConstSummary(c.approvals, uint64(a.Count), a.SumSeconds, q)
		ch <- prometheus.MustNewConstMetric(c.requests, prometheus.GaugeValue, float64(a.Pending), "pending")
		ch <- prometheus.MustNewConstMetric(c.requests, prometheus.GaugeValue, float64(a.Overdue), "overdue")
		ch <- prometheus.MustNewConstMetric(c.requests, prometheus.GaugeValue, float64(a.Escalated), "escalated")
		ch <- prometheus.MustNewConstMetric(c.requestOldest, prometheus.GaugeValue, a.OldestPendingSeconds)
	}
	counts, err := c.st.NotificationCounts(ctx)
	if err != nil {
		c.log.Warn("metrics: reading notification counts failed", "err", err)
		return
	}
	for _, chn := range []string{store.ChannelEmail, store.ChannelWebhook} {
		for _, st := range []string{store.NotifyPending, store.NotifySending, store.NotifySent, store.NotifyFailed} {
			ch <- prometheus.MustNewConstMetric(c.notifications, prometheus.GaugeValue, float64(counts[chn][st]), chn, st)
		}
	}
}

func (s *Server) initMetrics() {
	s.reg = prometheus.NewRegistry()
	s.importHist = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "tango_import_duration_seconds",
		Help:    "Time to validate, diff and write an HR import received through the API by this process.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
	})
	s.reg.MustRegister(
		newStoreCollector(s.st, s.log, s.now),
		s.importHist,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
}

// MetricsHandler serves the Prometheus metrics without asking who calls:
// for a listen address of its own (`tango serve --metrics-addr`).
func (s *Server) MetricsHandler() http.Handler { return s.metricsHandler() }

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(s.log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      s.reg,
		Timeout:       10 * time.Second,
	})
}

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
	st  store.Store
	log *slog.Logger

	up, imports, events, persons, importSeconds, tasks *prometheus.Desc
}

func newStoreCollector(st store.Store, log *slog.Logger) *storeCollector {
	return &storeCollector{
		st: st, log: log,
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
			"Open lifecycle tasks by owning team; state overdue counts those past their deadline.", []string{"team", "state"}, nil),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.imports
	ch <- c.events
	ch <- c.persons
	ch <- c.importSeconds
	ch <- c.tasks
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
	open, err := c.st.CaseTasks(ctx, store.CaseTaskFilter{Status: store.TaskOpen})
	if err != nil {
		c.log.Warn("metrics: reading open tasks failed", "err", err)
		return
	}
	type key struct{ team, state string }
	counts := map[key]int{}
	now := time.Now()
	for _, t := range open {
		counts[key{t.Team, "open"}]++
		if !t.Due.IsZero() && t.Due.Before(now) {
			counts[key{t.Team, "overdue"}]++
		} else {
			counts[key{t.Team, "overdue"}] += 0
		}
	}
	for k, v := range counts {
		ch <- prometheus.MustNewConstMetric(c.tasks, prometheus.GaugeValue, float64(v), k.team, k.state)
	}
}

func (s *Server) initMetrics() {
	s.reg = prometheus.NewRegistry()
	s.importHist = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "tango_import_duration_seconds",
		Help:    "Time to validate, diff and write an HR import received through the API by this process.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
	})
	s.approvalHist = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "tango_request_approval_seconds",
		Help:    "Time from an access request to its last approval, for requests approved through this process's API.",
		Buckets: []float64{60, 300, 900, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600},
	})
	s.reg.MustRegister(
		newStoreCollector(s.st, s.log),
		s.importHist,
		s.approvalHist,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(s.log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      s.reg,
		Timeout:       10 * time.Second,
	})
}

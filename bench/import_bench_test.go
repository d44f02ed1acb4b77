// Package bench measures `tango hr import` at scale on a synthetic
// organisation of 100,000 persons (see bench/README.md).
//
// BenchmarkParse100k runs in this process: it is the floor, the cost of
// reading the feed (parse, map, validate) without touching a store. The
// import benchmarks run each measured import in a child process
// (bench/cmd/importbench), so that the peak memory reported is that of the
// import alone, not of this harness and its fixtures. For them ns/op is the
// time of hr.ImportFile inside the child; cpu-s/op the CPU time the child
// spent in it (less sensitive than wall time to other load on the
// machine; PostgreSQL's server CPU is not included); wall-s/op is the
// whole child (start, read, open and migrate the store, import).
package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tango-iga/tango/bench/synth"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/table"
	"github.com/tango-iga/tango/internal/testenv"
)

const (
	persons = 100_000
	seed    = 1
)

// The fixture: the first snapshot and the next month (1% leavers, 2%
// movers, 1% joiners), written once per process, and the child binary.
var fixture struct {
	once        sync.Once
	dir         string
	first, next string
	bin         string
	err         error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	if readsFixture.dir != "" {
		if readsFixture.st != nil {
			readsFixture.st.Close()
		}
		os.RemoveAll(readsFixture.dir)
	}
	os.Exit(code)
}

func setup(b *testing.B) {
	b.Helper()
	fixture.once.Do(func() {
		f := &fixture
		if f.dir, f.err = os.MkdirTemp("", "tango-bench-"); f.err != nil {
			return
		}
		o := synth.Generate(persons, seed)
		nx, _ := synth.Next(o, 0.01, 0.02, 0.01)
		f.first, f.next = filepath.Join(f.dir, "m0.csv"), filepath.Join(f.dir, "m1.csv")
		if f.err = os.WriteFile(f.first, o.CSV(), 0o600); f.err != nil {
			return
		}
		if f.err = os.WriteFile(f.next, nx.CSV(), 0o600); f.err != nil {
			return
		}
		f.bin = filepath.Join(f.dir, "importbench")
		gobin, err := exec.LookPath("go")
		if err != nil {
			f.err = fmt.Errorf("the go command is needed to build the child: %w", err)
			return
		}
		cmd := exec.Command(gobin, "build", "-o", f.bin, "./cmd/importbench")
		if out, err := cmd.CombinedOutput(); err != nil {
			f.err = fmt.Errorf("go build ./cmd/importbench: %v\n%s", err, out)
		}
	})
	if fixture.err != nil {
		b.Fatal(fixture.err)
	}
}

// report is the part of importbench's JSON the benchmarks use.
type report struct {
	Rows        int     `json:"rows"`
	Seconds     float64 `json:"seconds"`
	WallSeconds float64 `json:"wall_seconds"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	RowsPerSec  float64 `json:"rows_per_sec"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
	Status      string  `json:"status"`
	Joiners     int     `json:"joiners"`
	Movers      int     `json:"movers"`
	Leavers     int     `json:"leavers"`
}

func child(b *testing.B, args ...string) report {
	b.Helper()
	cmd := exec.Command(fixture.bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("importbench %v: %v\n%s%s", args, err, stderr.Bytes(), stdout.Bytes())
	}
	var r report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		b.Fatalf("importbench %v: %v: %s", args, err, stdout.Bytes())
	}
	b.Logf("%s", bytes.TrimSpace(stdout.Bytes()))
	return r
}

// target is a fresh, empty store: a SQLite file or a PostgreSQL database.
func target(b *testing.B, kind string) []string {
	b.Helper()
	if kind == "postgres" {
		return []string{"-store", "postgres", "-dsn", testenv.PostgresDSN(b)}
	}
	return []string{"-store", "sqlite", "-db", filepath.Join(b.TempDir(), "tango.db")}
}

// measured accumulates the child runs of one benchmark.
type measured struct {
	n                        int
	rows                     int
	secs, wall, cpu, peakRSS float64
}

func (m *measured) add(r report) {
	m.n++
	m.rows += r.Rows
	m.secs += r.Seconds
	m.wall += r.WallSeconds
	m.cpu += r.CPUSeconds
	m.peakRSS = max(m.peakRSS, r.PeakRSSMB)
}

func (m *measured) report(b *testing.B) {
	if m.n == 0 {
		return
	}
	b.ReportMetric(m.secs*1e9/float64(m.n), "ns/op") // the import, not the child's start-up
	b.ReportMetric(m.wall/float64(m.n), "wall-s/op")
	b.ReportMetric(m.cpu/float64(m.n), "cpu-s/op") // of the child; PostgreSQL's own CPU is not in it
	b.ReportMetric(float64(m.rows)/m.secs, "rows/s")
	b.ReportMetric(m.peakRSS, "peakRSS-MB")
}

// BenchmarkParse100k is the floor: parse, map and validate the first
// snapshot, in this process. Its peakRSS-MB comes from one child run of
// the same work (importbench -mode parse, which also reads the file).
func BenchmarkParse100k(b *testing.B) {
	setup(b)
	data, err := os.ReadFile(fixture.first)
	if err != nil {
		b.Fatal(err)
	}
	src, _ := config.Default().Source("hris")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		t, err := table.ParseCSV(data)
		if err != nil {
			b.Fatal(err)
		}
		m, errs := hr.NewMapper(src, t.Columns)
		if len(errs) > 0 {
			b.Fatal(errs)
		}
		recs := make([]hr.Record, 0, len(t.Rows))
		for _, r := range t.Rows {
			rec, errs := m.Map(r)
			if len(errs) > 0 {
				b.Fatal(errs)
			}
			recs = append(recs, rec)
		}
		if errs := hr.Validate(m, recs); len(errs) > 0 {
			b.Fatal(errs[0])
		}
		rows += len(recs)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	r := child(b, "-mode", "parse", "-file", fixture.first)
	b.ReportMetric(r.PeakRSSMB, "peakRSS-MB")
}

// BenchmarkFirstLoad100k imports the 100,000-person snapshot into an
// empty store: 100,000 joiners.
func BenchmarkFirstLoad100k(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			setup(b)
			var m measured
			for range b.N {
				r := child(b, append(target(b, kind), "-file", fixture.first)...)
				if r.Status != "applied" || r.Joiners != persons {
					b.Fatalf("first load: %+v", r)
				}
				m.add(r)
			}
			m.report(b)
		})
	}
}

// BenchmarkReimport100k loads the snapshot (not measured), then imports
// the next month: 1,000 leavers, 2,000 movers, 1,000 joiners and 97,000
// unchanged persons.
func BenchmarkReimport100k(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			setup(b)
			var m measured
			for range b.N {
				b.StopTimer()
				st := target(b, kind)
				child(b, append(st, "-file", fixture.first)...)
				b.StartTimer()
				r := child(b, append(st, "-file", fixture.next)...)
				if r.Status != "applied" || r.Leavers != persons/100 || r.Movers != persons/50 || r.Joiners != persons/100 {
					b.Fatalf("re-import: %+v", r)
				}
				m.add(r)
			}
			m.report(b)
		})
	}
}

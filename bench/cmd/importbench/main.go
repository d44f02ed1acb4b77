// Command importbench measures one HR import in a process of its own, so
// that its peak memory (VmHWM) is that of the import alone, and prints the
// figures as one JSON object.
//
//	importbench -gen 100000 -seed 1 -out DIR        writes DIR/org-100000-m0.csv and -m1.csv
//	importbench -mode parse -file F.csv             read, parse, map, validate: the floor
//	importbench -store sqlite -db F.db -file F.csv  import F.csv like `tango hr import`
//	importbench -store postgres -dsn URL -file F.csv
//
// A re-import is two runs on the same database: the first month, then the
// next. -cpuprofile and -memprofile profile the measured part only.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tango-iga/tango/bench/synth"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/postgres"
	"github.com/tango-iga/tango/internal/store/sqlite"
	"github.com/tango-iga/tango/internal/table"
)

// Report is what one run prints.
type Report struct {
	Mode        string  `json:"mode"`  // parse, import or gen
	Store       string  `json:"store"` // sqlite or postgres; empty for parse
	File        string  `json:"file"`
	Bytes       int     `json:"bytes"`
	Rows        int     `json:"rows"`
	ReadSeconds float64 `json:"read_seconds"` // os.ReadFile
	OpenSeconds float64 `json:"open_seconds"` // opening and migrating the store
	Seconds     float64 `json:"seconds"`      // the measured part: hr.ImportFile, or parse+map+validate
	RowsPerSec  float64 `json:"rows_per_sec"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`  // VmHWM of this process at the end
	BaseRSSMB   float64 `json:"base_rss_mb"`  // VmRSS just before the measured part
	AllocMB     float64 `json:"alloc_mb"`     // Go heap bytes allocated by the measured part
	CPUSeconds  float64 `json:"cpu_seconds"`  // user+system CPU of this process in the measured part
	WallSeconds float64 `json:"wall_seconds"` // the whole process, from main to the report
	Status      string  `json:"status"`       // of the import
	Joiners     int     `json:"joiners"`
	Movers      int     `json:"movers"`
	Leavers     int     `json:"leavers"`
	Unchanged   int     `json:"unchanged"`
	Errors      int     `json:"errors"`
	GOMAXPROCS  int     `json:"gomaxprocs"`
}

func main() {
	start := time.Now()
	var (
		mode       = flag.String("mode", "import", "parse (read, parse, map and validate only) or import")
		storeKind  = flag.String("store", "sqlite", "sqlite or postgres")
		dbPath     = flag.String("db", "", "SQLite database file (created if missing)")
		dsn        = flag.String("dsn", "", "PostgreSQL DSN")
		file       = flag.String("file", "", "CSV snapshot in the CERT layout of config.Default's hris source")
		gen        = flag.Int("gen", 0, "generate an organisation of this many persons and its next month into -out")
		seed       = flag.Uint64("seed", 1, "seed for -gen")
		out        = flag.String("out", ".", "directory for -gen")
		leavers    = flag.Float64("leavers", 0.01, "share of leavers in the next month, for -gen")
		movers     = flag.Float64("movers", 0.02, "share of movers in the next month, for -gen")
		joiners    = flag.Float64("joiners", 0.01, "share of joiners in the next month, for -gen")
		cpuprofile = flag.String("cpuprofile", "", "write a CPU profile of the measured part here")
		memprofile = flag.String("memprofile", "", "write an allocation profile of the measured part here")
	)
	flag.Parse()
	if *gen > 0 {
		if err := generate(*gen, *seed, *out, *leavers, *movers, *joiners); err != nil {
			fail(err)
		}
		return
	}
	if *file == "" {
		fail(errors.New("-file is required"))
	}
	rep, err := run(*mode, *storeKind, *dbPath, *dsn, *file, *cpuprofile, *memprofile)
	if err != nil {
		fail(err)
	}
	rep.PeakRSSMB = procStatusMB("VmHWM")
	rep.WallSeconds = time.Since(start).Seconds()
	rep.GOMAXPROCS = runtime.GOMAXPROCS(0)
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(rep); err != nil {
		fail(err)
	}
	if rep.Errors > 0 || (rep.Mode == "import" && rep.Status != store.ImportApplied) {
		os.Exit(2)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "importbench:", err)
	os.Exit(1)
}

// Paths names the files -gen writes for n persons.
func paths(dir string, n int) (first, next string) {
	return filepath.Join(dir, fmt.Sprintf("org-%d-m0.csv", n)), filepath.Join(dir, fmt.Sprintf("org-%d-m1.csv", n))
}

func generate(n int, seed uint64, dir string, leavers, movers, joiners float64) error {
	o := synth.Generate(n, seed)
	nx, d := synth.Next(o, leavers, movers, joiners)
	first, next := paths(dir, n)
	if err := os.WriteFile(first, o.CSV(), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(next, nx.CSV(), 0o600); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"mode": "gen", "first": first, "next": next,
		"persons": n, "leavers": len(d.Leavers), "movers": len(d.Movers), "joiners": len(d.Joiners)})
}

func run(mode, kind, dbPath, dsn, file, cpuprofile, memprofile string) (Report, error) {
	ctx := context.Background()
	rep := Report{Mode: mode, File: file}
	t := time.Now()
	data, err := os.ReadFile(file)
	if err != nil {
		return rep, err
	}
	rep.ReadSeconds = time.Since(t).Seconds()
	rep.Bytes = len(data)
	cfg := config.Default()
	src, err := cfg.Source("hris")
	if err != nil {
		return rep, err
	}

	var measure func() error
	switch mode {
	case "parse":
		measure = func() error {
			tab, err := table.ParseCSV(data)
			if err != nil {
				return err
			}
			rep.Rows = len(tab.Rows)
			m, errs := hr.NewMapper(src, tab.Columns)
			if len(errs) > 0 {
				return errs[0]
			}
			recs := make([]hr.Record, 0, len(tab.Rows))
			for _, r := range tab.Rows {
				rec, errs := m.Map(r)
				rep.Errors += len(errs)
				recs = append(recs, rec)
			}
			rep.Errors += len(hr.Validate(m, recs))
			return nil
		}
	case "import":
		rep.Store = kind
		t := time.Now()
		var st store.Store
		switch kind {
		case "sqlite":
			if dbPath == "" {
				return rep, errors.New("-db is required for sqlite")
			}
			st, err = sqlite.Open(ctx, dbPath)
		case "postgres":
			if dsn == "" {
				return rep, errors.New("-dsn is required for postgres")
			}
			st, err = postgres.Open(ctx, dsn)
		default:
			return rep, fmt.Errorf("unknown store %q", kind)
		}
		if err != nil {
			return rep, err
		}
		defer st.Close()
		rep.OpenSeconds = time.Since(t).Seconds()
		measure = func() error {
			res, err := hr.ImportFile(ctx, st, cfg, src, filepath.Base(file), data, hr.Options{Actor: "bench"})
			if err != nil {
				return err
			}
			rep.Rows, rep.Status, rep.Errors = res.Rows, res.Status, len(res.Errors)
			rep.Joiners, rep.Movers, rep.Leavers, rep.Unchanged = res.Joiners, res.Movers, res.Leavers, res.Unchanged
			if len(res.Errors) > 0 {
				return fmt.Errorf("%s: %s: %v (and %d more)", file, res.Status, res.Errors[0], len(res.Errors)-1)
			}
			return nil
		}
	default:
		return rep, fmt.Errorf("unknown mode %q", mode)
	}

	rep.BaseRSSMB = procStatusMB("VmRSS")
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return rep, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return rep, err
		}
	}
	if memprofile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := cpuSeconds()
	t = time.Now()
	err = measure()
	rep.Seconds = time.Since(t).Seconds()
	rep.CPUSeconds = cpuSeconds() - cpu0
	runtime.ReadMemStats(&after)
	if cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return rep, err
	}
	rep.AllocMB = float64(after.TotalAlloc-before.TotalAlloc) / (1 << 20)
	if rep.Seconds > 0 {
		rep.RowsPerSec = float64(rep.Rows) / rep.Seconds
	}
	if memprofile != "" {
		f, err := os.Create(memprofile)
		if err != nil {
			return rep, err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// cpuSeconds is the user and system CPU time this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// procStatusMB reads a kB field of /proc/self/status (Linux) in MiB; 0
// where there is none.
func procStatusMB(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

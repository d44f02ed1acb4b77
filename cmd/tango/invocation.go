package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
)

// cliCommand is how a command printed for the user to run invokes this
// program again: see invocation.
func cliCommand() string {
	exe, err := os.Executable()
	if err != nil {
		exe = ""
	}
	cwd, _ := os.Getwd()
	mod := "github.com/tango-iga/tango/cmd/tango"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Path != "" {
		mod = bi.Path
	}
	return invocation(os.Args[0], exe, cwd, mod, exec.LookPath)
}

// invocation says how to run this program again from the shell it was
// started in:
//   - under `go run` the executable lives in the Go build cache (or a
//     go-build temporary directory) and is gone or unknown to the shell:
//     "go run ./cmd/tango" from the module root, else "go run MODULE_PATH";
//   - started by a bare name the PATH resolves to this executable: that name;
//   - otherwise the executable's absolute path, quoted for the shell.
func invocation(arg0, exe, cwd, mod string, lookPath func(string) (string, error)) string {
	if exe != "" && isGoRunExecutable(exe) {
		if cwd != "" {
			if _, err := os.Stat(filepath.Join(cwd, "cmd", "tango", "main.go")); err == nil {
				return "go run ./cmd/tango"
			}
		}
		return "go run " + mod
	}
	if arg0 != "" && !strings.ContainsRune(arg0, filepath.Separator) && !strings.ContainsRune(arg0, '/') {
		if p, err := lookPath(arg0); err == nil && sameFile(p, exe) {
			return arg0
		}
	}
	if exe == "" {
		exe = arg0
	}
	if abs, err := filepath.Abs(exe); err == nil {
		exe = abs
	}
	return shellQuote(exe)
}

// goCacheEntry is the directory name of an executable `go run` keeps in
// the build cache (GOCACHE/xx/HASH-d/NAME).
var goCacheEntry = regexp.MustCompile(`^[0-9a-f]{64}-d$`)

// isGoRunExecutable reports whether exe was built by `go run`: it is in a
// go-build temporary directory (…/go-build123/b001/exe/NAME) or in the
// build cache (…/go-build/xx/HASH-d/NAME, or under any GOCACHE).
func isGoRunExecutable(exe string) bool {
	dir := filepath.Dir(exe)
	if goCacheEntry.MatchString(filepath.Base(dir)) {
		return true
	}
	for _, part := range strings.Split(filepath.ToSlash(dir), "/") {
		if strings.HasPrefix(part, "go-build") {
			return true
		}
	}
	return false
}

func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(fa, fb)
}

// Package readmetest follows the README as a new user does: every command
// block runs, as written, on a copy of the repository.
//
// # The convention for command blocks in README.md
//
//   - A fenced block with the info string "sh" is a command block. The test
//     runs every one of them, in the order of the README, in one temporary
//     copy of the repository (the files `git ls-files` lists, tracked or
//     untracked but not ignored; never the repository itself). Blocks of any
//     other language (yaml, text, none) are not commands; a block written as
//     bash, shell, console or zsh is an error: write sh.
//   - A command block preceded (blank lines aside) by the comment
//     `<!-- readme-test: skip: REASON -->` is not run; REASON is required and
//     says what it needs (an LDAP server, root). Mark it for the reader too,
//     in the text around it.
//   - Each line is one command, run with `sh -c LINE` from the root of the
//     copy; a line ending in `\` continues on the next. Files persist from
//     line to line and block to block; shell state (cd, variables, export)
//     does not. Blank lines and lines starting with # are skipped.
//   - A command must exit 0, unless its line carries the comment
//     `# exit N` (e.g. `bin/tango hr import big.csv   # exit 3: held`):
//     then it must exit N.
//   - A line with the word serve or demo is a long-running server, one
//     simple command. It is started (`sh -c 'exec LINE'`) in its own
//     process group; the test waits (with a deadline)
//     for its "listening … url=URL" log line, polls URL/readyz until it
//     answers 200, runs the commands the server printed for the reader to
//     try (its stdout lines that start with the same program as the README
//     line, e.g. `go run ./cmd/tango` or `bin/tango`; none may start with a
//     bare `tango`), then sends SIGINT to the group and wants its "stopped"
//     log line and exit 0 (`go run` exits 1 when interrupted, whatever the
//     status of the program it ran: for a go run line, 1 is accepted). Its
//     --addr (default 127.0.0.1:8080) must be free: when it is not, the test
//     is skipped (failed under CI=true), as for any missing part.
//   - The commands run with TMPDIR set to a directory of the test, without
//     TANGO_DB, TANGO_CONFIG or LDAP_PASSWORD, and without any directory on
//     the PATH that holds a tango executable: a fresh machine.
package readmetest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/testenv"
)

// A block is one fenced command block of the README.
type block struct {
	line  int    // of the opening fence
	skip  string // the reason it is not run; empty: it runs
	lines []command
}

// A command is one command line of a block.
type command struct {
	line        int
	text        string
	exit        int  // the exit status it must have
	longRunning bool // serve or demo
}

var (
	fenceRE = regexp.MustCompile("^ {0,3}(```+)\\s*(.*)$")
	skipRE  = regexp.MustCompile(`^<!--\s*readme-test:\s*skip\b:?\s*(.*?)\s*-->$`)
	exitRE  = regexp.MustCompile(`(?:^|\s)#\s*exit\s+(\d+)\b`)
)

// parse reads the command blocks of a Markdown document.
func parse(doc string) ([]block, error) {
	var blocks []block
	lines := strings.Split(doc, "\n")
	lastText := "" // the last non-blank line outside a block
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			if strings.TrimSpace(lines[i]) != "" {
				lastText = strings.TrimSpace(lines[i])
			}
			continue
		}
		fence, info := m[1], strings.TrimSpace(m[2])
		lang, _, _ := strings.Cut(info, " ")
		start := i
		var body []string
		for i++; i < len(lines); i++ {
			if strings.TrimSpace(lines[i]) == fence {
				break
			}
			body = append(body, lines[i])
		}
		if i == len(lines) {
			return nil, fmt.Errorf("line %d: the block is never closed", start+1)
		}
		marker := skipRE.FindStringSubmatch(lastText)
		lastText = ""
		switch lang {
		case "bash", "shell", "console", "zsh", "shell-session":
			return nil, fmt.Errorf("line %d: a %s block: write command blocks as sh (the README test runs those)", start+1, lang)
		case "sh":
		default:
			if marker != nil {
				return nil, fmt.Errorf("line %d: a skip marker before a %q block, which is not a command block", start+1, info)
			}
			continue
		}
		b := block{line: start + 1}
		if marker != nil {
			if marker[1] == "" {
				return nil, fmt.Errorf("line %d: the skip marker gives no reason", start+1)
			}
			b.skip = marker[1]
		}
		for j := 0; j < len(body); j++ {
			at := start + 2 + j
			text := strings.TrimSpace(body[j])
			for strings.HasSuffix(text, `\`) && j+1 < len(body) {
				j++
				text = strings.TrimSuffix(text, `\`) + " " + strings.TrimSpace(body[j])
			}
			if text == "" || strings.HasPrefix(text, "#") {
				continue
			}
			c := command{line: at, text: text}
			if m := exitRE.FindStringSubmatch(text); m != nil {
				c.exit, _ = strconv.Atoi(m[1])
			}
			for _, w := range strings.Fields(text) {
				if w == "#" {
					break
				}
				if w == "serve" || w == "demo" {
					c.longRunning = true
				}
			}
			b.lines = append(b.lines, c)
		}
		blocks = append(blocks, b)
	}
	return blocks, nil
}

func TestParse(t *testing.T) {
	doc := "Intro\n\n```sh\ngo build ./...\nbin/tango hr import x.csv   # exit 3: held\n# a comment\n\nbin/tango a \\\n  --json\nbin/tango serve --addr 127.0.0.1:8080\n```\n" +
		"```yaml\nserve: demo\n```\n" +
		"<!-- readme-test: skip: needs LDAP -->\n\n```sh\nbin/tango reconcile\n```\n"
	bs, err := parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 {
		t.Fatalf("%d command blocks, want 2: %+v", len(bs), bs)
	}
	want := []command{
		{line: 4, text: "go build ./..."},
		{line: 5, text: "bin/tango hr import x.csv   # exit 3: held", exit: 3},
		{line: 8, text: "bin/tango a  --json"},
		{line: 10, text: "bin/tango serve --addr 127.0.0.1:8080", longRunning: true},
	}
	if fmt.Sprint(bs[0].lines) != fmt.Sprint(want) || bs[0].skip != "" || bs[0].line != 3 {
		t.Errorf("first block %+v\nwant lines %+v", bs[0], want)
	}
	if bs[1].skip != "needs LDAP" || len(bs[1].lines) != 1 {
		t.Errorf("second block %+v, want skipped for LDAP", bs[1])
	}
	for doc, want := range map[string]string{
		"```bash\nls\n```\n":                               "write command blocks as sh",
		"<!-- readme-test: skip -->\n```sh\nls\n```\n":     "gives no reason",
		"<!-- readme-test: skip: x -->\n```yaml\na\n```\n": "not a command block",
		"```sh\nls\n": "never closed",
	} {
		if _, err := parse(doc); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parse(%q) = %v, want an error with %q", doc, err, want)
		}
	}
}

// repoRoot walks up from the working directory to the one holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// copyRepo copies the files git knows (tracked, and untracked but not
// ignored) of root into a new temporary directory: what a fresh clone of
// the work in progress holds.
func copyRepo(t *testing.T, root string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		testenv.Missing(t, "git", "install git: the README test copies the files git lists")
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dst := t.TempDir()
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, name)
		fi, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the work tree
		} else if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			l, err := os.Readlink(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(l, to); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// freshEnv is the environment of a new user's shell: no Tango settings or
// secrets, no tango on the PATH, temporary files in tmp.
func freshEnv(tmp string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "TANGO_"), k == "LDAP_PASSWORD", k == "TMPDIR":
			continue
		case k == "PATH":
			var keep []string
			for _, d := range filepath.SplitList(v) {
				if fi, err := os.Stat(filepath.Join(d, "tango")); err == nil && !fi.IsDir() {
					continue
				}
				keep = append(keep, d)
			}
			kv = "PATH=" + strings.Join(keep, string(os.PathListSeparator))
		}
		env = append(env, kv)
	}
	return append(env, "TMPDIR="+tmp)
}

// lockedBuffer collects a process's output while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lineTimeout bounds one command (a cold `go build` included).
const lineTimeout = 5 * time.Minute

// shell runs one command line in dir and returns its combined output and
// exit status.
func shell(t *testing.T, dir string, env []string, line string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), lineTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s: still running after %s\n%s", line, lineTimeout, out.String())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	}
	t.Fatalf("%s: %v", line, err)
	return "", 0
}

var (
	urlRE  = regexp.MustCompile(`msg=listening addr=\S+ url=(http://\S+/)`)
	addrRE = regexp.MustCompile(`--addr[= ](\S+)`)
)

// program is how a command line invokes tango: "go run ./cmd/tango" or
// its first word (bin/tango).
func program(line string) string {
	f := strings.Fields(line)
	if len(f) >= 3 && f[0] == "go" && f[1] == "run" {
		return strings.Join(f[:3], " ")
	}
	return f[0]
}

// background runs a long-running server line: ready, the commands it
// printed run, then stopped by SIGINT. See the package comment.
func background(t *testing.T, dir string, env []string, c command) {
	t.Helper()
	addr := "127.0.0.1:8080"
	if m := addrRE.FindStringSubmatch(c.text); m != nil {
		addr = m[1]
	}
	if ln, err := net.Listen("tcp", addr); err != nil {
		testenv.Missing(t, "address "+addr+" (README line "+strconv.Itoa(c.line)+")", "another process listens on it: "+err.Error())
	} else {
		ln.Close()
	}
	// exec: the shell becomes the server, so that SIGINT reaches a process
	// that handles it (a waiting sh would die of it).
	cmd := exec.Command("sh", "-c", "exec "+c.text)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	exited := false
	t.Cleanup(func() {
		if !exited {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
	})
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("README line %d: %s: %s\nstdout:\n%s\nstderr:\n%s", c.line, c.text, fmt.Sprintf(format, args...), stdout.String(), stderr.String())
	}

	// Ready: the listening line (a go run builds first), then /readyz.
	var url string
	deadline := time.Now().Add(lineTimeout)
	for url == "" {
		if m := urlRE.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case err := <-done:
			exited = true
			fail("exited (%v) before listening", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			fail("no listening line within %s", lineTimeout)
		}
	}
	client := &http.Client{Timeout: 5 * time.Second}
	deadline = time.Now().Add(time.Minute)
	for {
		resp, err := client.Get(url + "readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			fail("%sreadyz never answered 200 (last: %v)", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The commands it told the reader to run.
	prog := program(c.text)
	sc := bufio.NewScanner(strings.NewReader(stdout.String()))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "tango ") {
			fail("prints a command starting with tango, which is not on the PATH: %s", line)
		}
		if !strings.HasPrefix(line, prog+" ") {
			continue
		}
		if out, code := shell(t, dir, env, line); code != 0 {
			fail("the printed command %s exited %d:\n%s", line, code, out)
		}
	}

	if err := syscall.Kill(-pgid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		exited = true
		if !strings.Contains(stderr.String(), "msg=stopped") {
			fail("after SIGINT (%v): no \"stopped\" log line, want a clean shutdown", err)
		}
		// go run itself exits 1 when it was interrupted, whatever the
		// program's status: the program's own clean stop is its log line.
		var ee *exec.ExitError
		if err != nil && !(strings.HasPrefix(prog, "go run ") && errors.As(err, &ee) && ee.ExitCode() == 1) {
			fail("after SIGINT: %v, want a clean exit", err)
		}
	case <-time.After(30 * time.Second):
		fail("still running 30 s after SIGINT")
	}
}

// TestREADME runs every command block of README.md as written.
func TestREADME(t *testing.T) {
	root := repoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parse(string(doc))
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	status := func() string {
		out, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=all").Output()
		if err != nil {
			t.Fatalf("git status: %v", err)
		}
		return string(out)
	}
	dir := copyRepo(t, root)
	before := status()
	env := freshEnv(t.TempDir())
	ran := 0
	for _, b := range blocks {
		if b.skip != "" {
			t.Logf("README line %d: block not run: %s", b.line, b.skip)
			continue
		}
		for _, c := range b.lines {
			ran++
			if c.longRunning {
				background(t, dir, env, c)
				continue
			}
			out, code := shell(t, dir, env, c.text)
			if code != c.exit {
				t.Fatalf("README line %d: %s\nexit %d, want %d:\n%s", c.line, c.text, code, c.exit, out)
			}
		}
	}
	if ran == 0 {
		t.Fatal("README.md has no command block that runs")
	}
	if after := status(); after != before {
		t.Errorf("the README test changed the repository:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

var (
	linkRE    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdNameRE  = regexp.MustCompile("(?:^|[\\s`(\"'])([\\w./-]*[\\w-]\\.md)\\b")
	docsFiles = []string{"README.md", "docs/*.md"}
)

// TestDocLinks: every relative link of README.md and docs/*.md, and every
// Markdown file they name, is in the repository.
func TestDocLinks(t *testing.T) {
	root := repoRoot(t)
	var files []string
	for _, g := range docsFiles {
		m, err := filepath.Glob(filepath.Join(root, g))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 2 {
		t.Fatalf("documents %v: want README.md and docs/", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		for _, m := range linkRE.FindAllStringSubmatch(string(b), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), target)); err != nil {
				t.Errorf("%s links to %s, which is not in the repository", rel, m[1])
			}
		}
		for _, m := range mdNameRE.FindAllStringSubmatch(string(b), -1) {
			name := m[1]
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), name)); err == nil {
				continue
			}
			if _, err := os.Stat(filepath.Join(root, name)); err == nil {
				continue
			}
			t.Errorf("%s names %s, which is not in the repository", rel, name)
		}
	}
}

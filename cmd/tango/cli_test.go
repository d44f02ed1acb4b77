package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// cli runs the command line as main does (exit codes included) and
// returns stdout, stderr and the exit code.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := execute(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

// A word that names no command is bad usage at every level, with cobra's
// suggestion; a command group alone still prints its help.
func TestUnknownCommandsAreUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args          []string
		word, suggest string
	}{
		{[]string{"hr", "imprt", "x.csv"}, "imprt", "import"},
		{[]string{"tasks", "reasign", "1"}, "reasign", "reassign"},
		{[]string{"audit", "verfy"}, "verfy", "verify"},
		{[]string{"imprt"}, "imprt", ""},
		{[]string{"hrr"}, "hrr", "hr"},
	} {
		out, stderr, code := cli(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, `unknown command "`+c.word+`"`) {
			t.Errorf("tango %s: exit %d, stdout %q, stderr %q; want exit 2 naming the word", strings.Join(c.args, " "), code, out, stderr)
		}
		if c.suggest != "" && !strings.Contains(stderr, "Did you mean this?\n\t"+c.suggest) {
			t.Errorf("tango %s: no suggestion of %q in %q", strings.Join(c.args, " "), c.suggest, stderr)
		}
	}
	out, _, code := cli(t, "hr")
	if code != exitOK || !strings.Contains(out, "Available Commands") {
		t.Errorf("tango hr: exit %d, %q; want its help", code, out)
	}
}

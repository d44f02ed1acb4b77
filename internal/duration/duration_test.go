package duration_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/duration"
)

func TestFormatParse(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{90 * 24 * time.Hour, "90d"},
		{24 * time.Hour, "1d"},
		{2 * time.Hour, "2h"},
		{36 * time.Hour, "36h"},
		{90 * time.Minute, "1h30m"},
		{time.Minute, "1m"},
		{61 * time.Second, "1m1s"},
		{1500 * time.Millisecond, "1.5s"},
		{18193734 * time.Nanosecond, "18.193734ms"},
		{0, "0s"},
		{-2 * time.Hour, "-2h"},
	} {
		if got := duration.Format(c.d); got != c.want {
			t.Errorf("Format(%v) = %q, want %q", c.d, got, c.want)
		}
		if c.d <= 0 {
			continue
		}
		back, err := duration.Parse(c.want)
		if err != nil || back != c.d {
			t.Errorf("Parse(%q) = %v, %v; want %v", c.want, back, err, c.d)
		}
	}
	for _, bad := range []string{"", "0d", "-1d", "x", "1.5d", "-2h", "0s", "99999999999d"} {
		if d, err := duration.Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", bad, d)
		}
	}
}

func TestJSON(t *testing.T) {
	type body struct {
		D duration.Duration `json:"d,omitempty"`
	}
	b, err := json.Marshal(body{D: duration.Duration(90 * 24 * time.Hour)})
	if err != nil || string(b) != `{"d":"90d"}` {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	if b, _ := json.Marshal(body{}); string(b) != `{}` {
		t.Fatalf("zero with omitempty: %s", b)
	}
	for in, want := range map[string]time.Duration{`{"d":"2h"}`: 2 * time.Hour, `{"d":"90d"}`: 90 * 24 * time.Hour, `{"d":"0s"}`: 0, `{}`: 0} {
		var v body
		if err := json.Unmarshal([]byte(in), &v); err != nil || v.D.Std() != want {
			t.Errorf("unmarshal %s = %v, %v; want %v", in, v.D, err, want)
		}
	}
	var v body
	if err := json.Unmarshal([]byte(`{"d":"soon"}`), &v); err == nil || !strings.Contains(err.Error(), `"soon"`) {
		t.Errorf("unmarshal of a bad duration: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"d":7776000000000000}`), &v); err == nil {
		t.Error("a number of nanoseconds was accepted; want an error (durations are strings)")
	}
}

// TestBounded: nothing longer than 100 years is read, and what overflows
// an int64 of nanoseconds (213504d wraps to 25 minutes) is refused with
// the input named, never wrapped.
func TestBounded(t *testing.T) {
	if d, err := duration.Parse("36525d"); err != nil || d != duration.Max {
		t.Fatalf("Parse(36525d) = %v, %v; want %v", d, err, duration.Max)
	}
	if d, err := duration.Parse("876600h"); err != nil || d != duration.Max {
		t.Fatalf("Parse(876600h) = %v, %v; want %v", d, err, duration.Max)
	}
	for _, bad := range []string{"213504d", "106752d", "36526d", "876601h", "9223372036854775807d", "99999999999999999999d", "2562048h", "9999999999999999999ns"} {
		d, err := duration.Parse(bad)
		if err == nil || !strings.Contains(err.Error(), `"`+bad+`"`) || !strings.Contains(err.Error(), "100 years") {
			t.Errorf("Parse(%q) = %v, %v; want an error naming it and the 100-year bound", bad, d, err)
		}
	}
	var v duration.Duration
	if err := json.Unmarshal([]byte(`"213504d"`), &v); err == nil {
		t.Fatalf("JSON \"213504d\" read as %v", v)
	}
}

// FuzzParse: Parse never panics, what it accepts is in (0, Max], and
// Format writes it back as Parse reads it.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"30d", "213504d", "1h30m", "18.2ms", "-1d", "0s", "36525d", "876600h1ns", "+5d", " 7d "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := duration.Parse(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(strings.TrimSpace(s))) {
				t.Fatalf("Parse(%q): error %q does not name the input", s, err)
			}
			return
		}
		if d <= 0 || d > duration.Max {
			t.Fatalf("Parse(%q) = %v, outside (0, %v]", s, d, duration.Max)
		}
		back, err := duration.Parse(duration.Format(d))
		if err != nil || back != d {
			t.Fatalf("Parse(Format(%v)) = %v, %v", d, back, err)
		}
	})
}

package ldap_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/connector/ldap"
)

// FuzzParseActivity: a directory's last-activity value (generalized time
// or FILETIME, from outside) never panics; a value it accepts is in UTC,
// and a generalized time or FILETIME it formats reads back as that time.
func FuzzParseActivity(f *testing.F) {
	for _, s := range []string{"20260412083000Z", "20260412083000+0200", "2026041208Z", "133578144000000000",
		"9223372036854775807", "0", "", "garbage", "99999999999999999999", "000000000000000"} {
		f.Add(s, int64(1776000000))
	}
	f.Fuzz(func(t *testing.T, v string, unix int64) {
		got, err := ldap.ParseActivity(v)
		if err == nil && !got.IsZero() && got.Location() != time.UTC {
			t.Fatalf("ParseActivity(%q) = %v: not UTC", v, got)
		}
		at := time.Unix(unix%(300*365*24*3600), 0).UTC() // 1670 to 2270
		if at.Year() >= 1970 {
			if back, err := ldap.ParseActivity(at.Format("20060102150405Z")); err != nil || !back.Equal(at) {
				t.Fatalf("generalized time of %v read back as %v (%v)", at, back, err)
			}
		}
		if at.Year() > 1601 {
			ft := at.Unix()*1e7 + 116444736000000000
			if back, err := ldap.ParseActivity(strconv.FormatInt(ft, 10)); err != nil || !back.Equal(at) {
				t.Fatalf("FILETIME %d of %v read back as %v (%v)", ft, at, back, err)
			}
		}
	})
}

package buildinfo

import (
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// pseudoRe is the regexp fromPseudoVersion replaced (a package-level regexp
// is compiled at every start of the program): the reference it must agree with.
var pseudoRe = regexp.MustCompile(`[-.](\d{14})-([0-9a-f]{12})(?:\+[0-9A-Za-z.-]+)?$`)

func fromPseudoVersionRegexp(v string) (commit, date string) {
	m := pseudoRe.FindStringSubmatch(v)
	if m == nil {
		return "", ""
	}
	t, err := time.Parse("20060102150405", m[1])
	if err != nil {
		return "", ""
	}
	return m[2], t.UTC().Format(time.RFC3339)
}

var pseudoVersions = []string{
	"v0.0.0-20260102030405-abcdef123456",
	"v1.2.4-0.20260102030405-abcdef123456",
	"v1.2.4-pre.0.20260102030405-abcdef123456",
	"v2.0.0-20260102030405-abcdef123456+incompatible",
	"v0.0.0-20260102030405-0123456789ab+dirty",
	"v0.0.0-20260102030405-0123456789ab+",
	"v0.0.0-20260102030405-0123456789ab+a_b",
	"v0.0.0-20260102030405-0123456789ab+x+dirty",
	"v0.0.0-20260102030405-0123456789AB",
	"v0.0.0-20260102030405-0123456789a",
	"v0.0.0-2026010203040-0123456789ab",
	"v0.0.0_20260102030405-0123456789ab",
	"-20260102030405-0123456789ab",
	"20260102030405-0123456789ab",
	"v0.0.0-20261302030405-0123456789ab", // month 13
	"a+b.20260102030405-abcdef123456",
	".00000000000000-000000000000+.00000101000000-000000000000", // the first tail wins, even when its date is not one
	"x-20260102030405-abcdef123456+y-20260102030405-abcdef123456",
	"v1.2.3-rc.20260102030405",
	"v1.4.0",
	"(devel)",
	"",
	"+",
}

func TestFromPseudoVersion(t *testing.T) {
	tests := []struct {
		v            string
		commit, date string
	}{
		{"v0.0.0-20260102030405-abcdef123456", "abcdef123456", "2026-01-02T03:04:05Z"},
		{"v1.2.4-0.20260102030405-abcdef123456", "abcdef123456", "2026-01-02T03:04:05Z"},
		{"v0.0.0-20260102030405-0123456789ab+dirty", "0123456789ab", "2026-01-02T03:04:05Z"},
		{"v2.0.0-20260102030405-abcdef123456+incompatible", "abcdef123456", "2026-01-02T03:04:05Z"},
		{"v0.0.0-20260102030405-0123456789AB", "", ""},
		{"v0.0.0-20261302030405-0123456789ab", "", ""},
		{"v1.2.3-rc.20260102030405", "", ""},
		{"v1.4.0", "", ""},
	}
	for _, tt := range tests {
		commit, date := fromPseudoVersion(tt.v)
		if diff := cmp.Diff([2]string{tt.commit, tt.date}, [2]string{commit, date}); diff != "" {
			t.Errorf("fromPseudoVersion(%q) (-want +got):\n%s", tt.v, diff)
		}
	}
	for _, v := range pseudoVersions {
		c1, d1 := fromPseudoVersionRegexp(v)
		c2, d2 := fromPseudoVersion(v)
		if diff := cmp.Diff([2]string{c1, d1}, [2]string{c2, d2}); diff != "" {
			t.Errorf("fromPseudoVersion(%q) differs from the regexp (-regexp +got):\n%s", v, diff)
		}
	}
}

func FuzzFromPseudoVersion(f *testing.F) {
	for _, v := range pseudoVersions {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c1, d1 := fromPseudoVersionRegexp(v)
		c2, d2 := fromPseudoVersion(v)
		if c1 != c2 || d1 != d2 {
			t.Errorf("fromPseudoVersion(%q) = %q, %q; the regexp says %q, %q", v, c2, d2, c1, d1)
		}
	})
}

package cli

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
)

// The writeback and passwords files carry HR's values (key, UPN, mail): a
// cell starting like a spreadsheet formula gets a quote in front. The
// password is written exactly as set, whatever it starts with.
func TestCSVFilesEscapeFormulas(t *testing.T) {
	tests := []struct {
		name, key, upn, mail, password string
		want                           []string // writeback row, then passwords row
	}{
		{"formula key", "=1+1", "a@contoso.com", "", "Abc-def",
			[]string{"'=1+1", "a@contoso.com", "", "id", "2026-11-26T09:00:00Z", "'=1+1", "a@contoso.com", "Abc-def"}},
		{"every start", "+1", "-x@contoso.com", "@x@contoso.com", "x=y",
			[]string{"'+1", "'-x@contoso.com", "'@x@contoso.com", "id", "2026-11-26T09:00:00Z", "'+1", "'-x@contoso.com", "x=y"}},
		{"tab and CR", "\t1", "\r@contoso.com", "", "p",
			[]string{"'\t1", "'\r@contoso.com", "", "id", "2026-11-26T09:00:00Z", "'\t1", "'\r@contoso.com", "p"}},
		{"a password is never changed", "1", "b@contoso.com", "", "-Abc=1",
			[]string{"1", "b@contoso.com", "", "id", "2026-11-26T09:00:00Z", "1", "b@contoso.com", "-Abc=1"}},
		{"plain", "1001", "c@contoso.com", "c@contoso.com", "Pw1!",
			[]string{"1001", "c@contoso.com", "c@contoso.com", "id", "2026-11-26T09:00:00Z", "1001", "c@contoso.com", "Pw1!"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			wb, pw := filepath.Join(dir, "wb.csv"), filepath.Join(dir, "pw.csv")
			wf, err := os.Create(wb)
			if err != nil {
				t.Fatal(err)
			}
			pf, err := os.Create(pw)
			if err != nil {
				t.Fatal(err)
			}
			joiners, passwords := newCSVStream[writebackRow](wf), newCSVStream[passwordRow](pf)
			joiners.add(writebackRow{Key: tc.key, UPN: tc.upn, Mail: tc.mail, ObjectID: "id", CreatedAt: "2026-11-26T09:00:00Z"})
			passwords.add(passwordRow{Key: tc.key, UPN: tc.upn, Password: tc.password})
			if err := joiners.close(); err != nil {
				t.Fatal(err)
			}
			if err := passwords.close(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, path := range []string{wb, pw} {
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				r := csv.NewReader(f)
				rows, err := r.ReadAll()
				f.Close()
				if err != nil || len(rows) != 2 {
					t.Fatalf("%s: %q %v", path, rows, err)
				}
				got = append(got, rows[1]...)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("cells = %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("cell %d = %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

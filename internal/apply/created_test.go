package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/plan"
)

type createdCall struct{ key, id, upn, mail, password string }

func recordCreated(calls *[]createdCall) CreatedFunc {
	return func(key, id, upn, mail, password string, attrs identity.Attrs) {
		// The attributes are the create's, for the writeback; never the
		// password.
		for k, v := range attrs.All() {
			if password != "" && v == password {
				panic("the password is among the created attributes (" + k + ")")
			}
		}
		if attrs.Get("userPrincipalName") != upn || attrs.Get("employeeId") != key {
			panic(fmt.Sprintf("created attributes %v for %s %s", attrs, key, upn))
		}
		*calls = append(*calls, createdCall{key, id, upn, mail, password})
	}
}

func TestCreatedSeesEachJoinerOnceWithThePasswordSent(t *testing.T) {
	d := newFakeDir()
	withMail := createAction("3", "c@x.com", "")
	withMail.Changes = append(withMail.Changes, plan.Change{Attribute: "mail", After: sp("c.mail@x.com")})
	p := testPlan(createAction("2", "b@x.com", "1"), createAction("1", "a@x.com", ""), withMail)
	n := 0
	var calls []createdCall
	rep, err := Execute(context.Background(), p, asWriter(d), Options{
		Password: func() (string, error) { n++; return fmt.Sprintf("pw-%d-secret", n), nil },
		Created:  recordCreated(&calls),
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Done != 3 {
		t.Fatalf("report = %+v", rep)
	}
	if len(calls) != 3 {
		t.Fatalf("Created called %d times, want 3: %+v", len(calls), calls)
	}
	// The directory saw the passwords in the order the creates were sent.
	sent := map[string]string{} // key -> password sent
	creates := 0
	for _, c := range d.calls {
		if key, ok := strings.CutPrefix(c, "create "); ok {
			sent[key] = d.passwords[creates]
			creates++
		}
	}
	if creates != 3 {
		t.Fatalf("creates sent = %d: %v", creates, d.calls)
	}
	seen := map[string]bool{}
	for _, c := range calls {
		if seen[c.key] {
			t.Errorf("joiner %s reported twice", c.key)
		}
		seen[c.key] = true
		if c.password == "" || c.password != sent[c.key] {
			t.Errorf("joiner %s: password %q, directory got %q", c.key, c.password, sent[c.key])
		}
		if u := d.users[c.id]; u.IsNil() || u.Get("employeeId") != c.key || u.Get("userPrincipalName") != c.upn {
			t.Errorf("joiner %s: id %s holds %v (upn %s)", c.key, c.id, u, c.upn)
		}
		wantMail := ""
		if c.key == "3" {
			wantMail = "c.mail@x.com"
		}
		if c.mail != wantMail {
			t.Errorf("joiner %s: mail %q, want %q", c.key, c.mail, wantMail)
		}
	}
	// The report says a password was set, never which.
	js, _ := json.Marshal(rep)
	for _, c := range calls {
		if strings.Contains(string(js), c.password) {
			t.Errorf("report holds a password: %s", js)
		}
	}
	for _, r := range rep.Results {
		if r.Note != NotePasswordSet {
			t.Errorf("%s note = %q, want %q", r.Key, r.Note, NotePasswordSet)
		}
	}
}

func TestCreatedReportsAdoptionsWithoutPassword(t *testing.T) {
	d := newFakeDir()
	p := testPlan(createAction("1", "a@x.com", ""), createAction("2", "b@x.com", "1"))
	if _, err := Execute(context.Background(), testPlan(createAction("1", "a@x.com", "")), asWriter(d), Options{}); err != nil {
		t.Fatal(err)
	}
	first := ""
	for id := range d.users {
		first = id
	}
	// 1 exists from an earlier apply (its answer lost); 2 is new.
	var calls []createdCall
	rep, err := Execute(context.Background(), p, asWriter(d), Options{Created: recordCreated(&calls)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Done != 2 || len(d.users) != 2 {
		t.Fatalf("report = %+v, users = %d", rep, len(d.users))
	}
	if len(calls) != 2 {
		t.Fatalf("calls = %+v", calls)
	}
	for _, c := range calls {
		switch c.key {
		case "1":
			if c.password != "" || c.id != first || c.upn != "a@x.com" {
				t.Errorf("adopted joiner: %+v (want id %s, no password)", c, first)
			}
		case "2":
			if c.password == "" || c.id == first {
				t.Errorf("created joiner: id %s, password set %v", c.id, c.password != "")
			}
		default:
			t.Errorf("unexpected call %+v", c)
		}
	}
}

func TestCreatedSkipsFailedCreates(t *testing.T) {
	d := newFakeDir()
	d.users["other"] = identity.AttrsOf(map[string]string{"userPrincipalName": "a@x.com"})
	var calls []createdCall
	rep, err := Execute(context.Background(), testPlan(createAction("1", "a@x.com", ""), createAction("2", "b@x.com", "")), asWriter(d), Options{Created: recordCreated(&calls)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 1 || len(calls) != 1 || calls[0].key != "2" {
		t.Errorf("report = %+v, calls = %+v", rep, calls)
	}
}

package expr

import (
	"strings"
	"testing"
)

// listEnv is a record whose fields may have several values, as an LDAP
// entry's attributes do.
type listEnv map[string][]string

func (l listEnv) Field(name string) (string, bool) {
	vs, ok := l[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return strings.Join(vs, ","), true
}

func (l listEnv) FieldValues(name string) ([]string, bool) {
	vs := l[name]
	return vs, len(vs) > 1
}

// A field with several values is a list for Join, Item, Count and
// RemoveDuplicates, and "a,b" as text; a field with one value stays a
// string, so one expression serves entries with one value and with many.
func TestListEnvFields(t *testing.T) {
	env := listEnv{
		"mail":             {"ana@contoso.com", "ana.garcia@contoso.com"},
		"uid":              {"agarcia"},
		"departmentNumber": {"42", "7", "42"},
	}
	for _, c := range []struct{ expr, want string }{
		{`Join("; ", [mail])`, "ana@contoso.com; ana.garcia@contoso.com"},
		{`Item([mail], 2)`, "ana.garcia@contoso.com"},
		{`Item([mail], 3)`, ""},
		{`Count([mail])`, "2"},
		{`Count([uid])`, "1"},
		{`Count([missing])`, "0"},
		{`Item([uid], 1)`, "agarcia"},
		{`[uid]`, "agarcia"},
		{`[mail]`, "ana@contoso.com,ana.garcia@contoso.com"},
		{`ToUpper(Item([mail], 1))`, "ANA@CONTOSO.COM"},
		{`Join(",", RemoveDuplicates([departmentNumber]))`, "42,7"},
		{`IIF(Count([mail]) > 1, "several", "one")`, "several"},
	} {
		v, err := MustParse(c.expr).Eval(env)
		if err != nil || v.String() != c.want {
			t.Errorf("%s = %#v, %v; want %q", c.expr, v, err, c.want)
		}
	}
	if v, _ := MustParse(`[mail]`).Eval(env); v.Kind() != KindList {
		t.Errorf("[mail] is a %s, want a list", v.Kind())
	}
	if v, _ := MustParse(`[uid]`).Eval(env); v.Kind() != KindString {
		t.Errorf("[uid] is a %s, want a string", v.Kind())
	}
	// A plain Env never gives lists.
	if v, _ := MustParse(`[mail]`).Eval(MapEnv{"mail": "a,b"}); v.Kind() != KindString {
		t.Errorf("[mail] from a MapEnv is a %s", v.Kind())
	}
}

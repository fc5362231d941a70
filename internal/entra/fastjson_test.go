package entra

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// knownKeys are the JSON names the page decoders know (rawUser, userPage
// and their nested structs): encoding/json matches them without regard to
// case, the fast decoder exactly, as Graph sends them.
var knownKeys = []string{"value", "@odata.nextLink", "@odata.deltaLink", "@odata.count", "id", "accountEnabled", "displayName", "givenName",
	"surname", "userPrincipalName", "mailNickname", "mail", "jobTitle", "department", "companyName", "officeLocation",
	"employeeId", "employeeType", "employeeHireDate", "employeeLeaveDateTime", "employeeOrgData", "division", "costCenter",
	"streetAddress", "city", "state", "postalCode", "country", "usageLocation", "mobilePhone", "preferredLanguage", "manager",
	"manager@delta", "@removed", "licenseAssignmentStates", "skuId", "assignedByGroup", "deletedDateTime",
	"onPremisesSyncEnabled", "onPremisesDistinguishedName", "onPremisesLastSyncDateTime", "signInSessionsValidFromDateTime", "reason"}

// caseVariant says whether v holds an object key that differs only in case
// from a known one (or, being a key of @removed, any key but reason).
func caseVariant(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			for _, kk := range knownKeys {
				if k != kk && strings.EqualFold(k, kk) {
					return true
				}
			}
			if caseVariant(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if caseVariant(e) {
				return true
			}
		}
	}
	return false
}

var pageSeeds = []string{
	`{"@odata.context":"x","@odata.nextLink":"https://g/v1.0/users?$skiptoken=a","value":[{"id":"1","displayName":"Zoë \u00fc\ud83d\ude00","accountEnabled":true,"department":"Sales","employeeOrgData":{"division":"D","costCenter":null},"manager":{"@odata.type":"#microsoft.graph.user","id":"m"}}]}`,
	`{"value":[{"id":"2","@removed":{"reason":"changed"}},{"id":"3","manager@delta":[{"id":"m","@removed":{"reason":"deleted"}}],"licenseAssignmentStates":[{"skuId":"S","assignedByGroup":null,"state":"Active"},{"skuId":"T","assignedByGroup":"g"}]}],"@odata.deltaLink":"d"}`,
	`{"value":[null,{"id":"4","employeeHireDate":"2021-03-04T00:00:00Z","onPremisesSyncEnabled":false,"mail":null,"extra":{"a":[1,2.5e3,-0,true,false,null,"s\\\"\/\b\f\n\r\t"]}}]}`,
	`{"value":[],"manager@delta":[],"@odata.count":17}`,
	`{"value":[{"id":"5","manager@delta":[],"licenseAssignmentStates":[]}]}`,
	`null`,
	`{"value":[{"id":"x\ud800y"}]}`,
	"{\"value\":[{\"id\":\"bad\xffutf8\"}]}",
}

func FuzzDecodePage(f *testing.F) {
	for _, s := range pageSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want userPage
		werr := json.Unmarshal(data, &want)
		var got userPage
		gerr := decodePage(data, &got, interner{})
		if werr != nil {
			return // encoding/json refuses it; the fast decoder may or may not
		}
		var generic any
		if json.Unmarshal(data, &generic) == nil && caseVariant(generic) {
			return
		}
		if gerr != nil {
			t.Fatalf("encoding/json reads %q, the fast decoder fails: %v", data, gerr)
		}
		normalizeRemoved(&want)
		normalizeRemoved(&got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded differently:\n got %+v\nwant %+v\ninput %q", got, want, data)
		}
	})
}

// Malformed bodies fail, never give a partial page.
func TestDecodePageRefusesMalformedJSON(t *testing.T) {
	for _, s := range []string{`{"value":[{"id":"1"}]`, `{"value":[{"id":"1"},]}`, `{"value":[{"id":1}]}`, `{"value":[{"id":"1"}]} x`,
		`{"value":[{"id":"1","accountEnabled":"yes"}]}`, `{"value":[{"id":"\x01"}]}`, `{"value":[{"id":"a\q"}]}`, `{"value":[tru]}`, ``} {
		var pg userPage
		if err := decodePage([]byte(s), &pg, nil); err == nil {
			t.Errorf("%q decoded without error: %+v", s, pg)
		}
	}
}

func TestDecodeBatch(t *testing.T) {
	body := `{"responses":[{"id":"1","status":200,"headers":{"Content-Type":"application/json"},"body":{"value":[{"id":"u","department":"Sales"}],"@odata.nextLink":"n"}},
	{"id":"0","status":429,"headers":{"Retry-After":"3"},"body":{"error":{"code":"TooManyRequests","message":"slow","details":[{"code":"d1"}]}}},
	{"id":2,"status":503}]}`
	items, err := decodeBatch([]byte(body), interner{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[0].ID != "1" || items[0].Page.NextLink != "n" || len(items[0].Page.Value) != 1 ||
		items[1].Status != 429 || items[1].Headers["Retry-After"] != "3" || items[1].Error == nil || items[1].Error.Detail != "d1" ||
		items[2].ID != "2" || items[2].Status != 503 {
		t.Fatalf("items %+v", items)
	}
}

// normalizeRemoved keeps of each @removed only its reason when a string:
// the fast decoder reads nothing else of it.
func normalizeRemoved(pg *userPage) {
	norm := func(m *map[string]any) *map[string]any {
		if m == nil {
			return nil
		}
		out := map[string]any{}
		if r, ok := (*m)["reason"].(string); ok {
			out["reason"] = r
		}
		return &out
	}
	for i := range pg.Value {
		u := &pg.Value[i]
		u.Removed = norm(u.Removed)
		for j := range u.ManagerDelta {
			u.ManagerDelta[j].Removed = norm(u.ManagerDelta[j].Removed)
		}
	}
}

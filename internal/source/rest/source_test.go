package rest

import (
	"encoding/base64"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestNewDefaults pins the defaults New fills in for a Config not made by
// Parse, and its refusals.
func TestNewDefaults(t *testing.T) {
	u, _ := url.Parse("https://hr.example.com/api")
	tok, _ := url.Parse("https://login.example.com/token")
	cases := []struct {
		name    string
		c       Config
		want    Config // the Config the Source keeps
		wantErr string
	}{
		{"zero values", Config{URL: u},
			Config{URL: u, Method: "GET", Timeout: DefaultTimeout, MaxPages: DefaultMaxPages, MaxBody: DefaultMaxBody,
				Paging: Paging{Type: PagingNone}, Auth: Auth{Type: AuthNone}}, ""},
		{"negative values", Config{URL: u, Timeout: -1, MaxPages: -1, MaxBody: -1},
			Config{URL: u, Method: "GET", Timeout: DefaultTimeout, MaxPages: DefaultMaxPages, MaxBody: DefaultMaxBody,
				Paging: Paging{Type: PagingNone}, Auth: Auth{Type: AuthNone}}, ""},
		{"kept", Config{URL: u, Method: "POST", Timeout: time.Second, MaxPages: 2, MaxBody: 1024, Retries: 3,
			Paging: Paging{Type: PagingLinkHeader}, Auth: Auth{Type: AuthOAuth2, TokenURL: tok}},
			Config{URL: u, Method: "POST", Timeout: time.Second, MaxPages: 2, MaxBody: 1024, Retries: 3,
				Paging: Paging{Type: PagingLinkHeader}, Auth: Auth{Type: AuthOAuth2, TokenURL: tok}}, ""},
		{"no URL", Config{}, Config{}, "rest source: no URL (use Parse to build the Config)"},
		{"oauth2 without token URL", Config{URL: u, Auth: Auth{Type: AuthOAuth2}}, Config{}, "rest source: oauth2 needs a token URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(c.c, Options{})
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr || s != nil {
					t.Fatalf("New: %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.c, c.want) {
				t.Errorf("config\n%+v\nwant\n%+v", s.c, c.want)
			}
			if s.client == nil || s.sleep == nil || s.log == nil || s.now == nil || s.red == nil {
				t.Errorf("dependencies not filled in: %+v", s)
			}
		})
	}
}

// TestNewURLsAndSecrets pins what New derives from a Config: the first
// URL, the names shown for it and the token endpoint, the columns, and
// every secret (in every form it travels in) known to the redactor.
func TestNewURLsAndSecrets(t *testing.T) {
	u, _ := url.Parse("https://hr.example.com/api?keep=1&limit=5")
	tok, _ := url.Parse("https://login.example.com/token?tenant=t")
	c := Config{
		URL: u,
		Query: []Param{{Name: "limit", Value: "10"}, {Name: "api_key", Secret: NewSecret("query-secret-1")},
			{Name: "$filter", Value: "a eq 'b c'"}},
		Headers: []Param{{Name: "X-Key", Secret: NewSecret("header-secret-2")}, {Name: "X-Plain", Value: "plain-value"}},
		Fields:  []Field{{Name: "id", Path: "id"}, {Name: "Mail", Path: "emails.0.address"}},
		Auth: Auth{Type: AuthOAuth2, TokenURL: tok, ClientID: "cid&1", ClientSecret: NewSecret("client-secret-3+/"),
			Params: []Param{{Name: "resource", Secret: NewSecret("param-secret-4")}, {Name: "audience", Value: "aud-value"}}},
	}
	s, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://hr.example.com/api?keep=1&limit=10&api_key=query-secret-1&$filter=a%20eq%20'b%20c'"; s.firstURL != want {
		t.Errorf("first URL %s\nwant      %s", s.firstURL, want)
	}
	if strings.Contains(s.display, "query-secret-1") || !strings.Contains(s.display, "keep=1") || s.String() != "rest "+s.display {
		t.Errorf("display %q, String %q", s.display, s.String())
	}
	if s.tokenDisplay != displayURL(tok, nil, s.red) || s.tokenDisplay == "" {
		t.Errorf("token display %q", s.tokenDisplay)
	}
	if !reflect.DeepEqual(s.secretParams, map[string]bool{"api_key": true}) {
		t.Errorf("secret parameters %v", s.secretParams)
	}
	if s.header == nil || !reflect.DeepEqual(s.header.Names, []string{"id", "Mail"}) {
		t.Errorf("header %+v", s.header)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("cid&1") + ":" + url.QueryEscape("client-secret-3+/")))
	for _, secret := range []string{"query-secret-1", "header-secret-2", "client-secret-3+/", url.QueryEscape("client-secret-3+/"), "param-secret-4", basic} {
		if got := s.red.clean("<" + secret + ">"); strings.Contains(got, secret) {
			t.Errorf("%q is not redacted: %q", secret, got)
		}
	}
	for _, plain := range []string{"plain-value", "aud-value", "cid&1"} {
		if got := s.red.clean(plain); got != plain {
			t.Errorf("%q redacted to %q", plain, got)
		}
	}

	// bearer, basic and API-key credentials
	for _, a := range []Auth{
		{Type: AuthBearer, Token: NewSecret("bearer-token-5")},
		{Type: AuthBasic, Username: "user", Password: NewSecret("password-6")},
		{Type: AuthBasic, APIKey: NewSecret("api-key-7")},
	} {
		s, err := New(Config{URL: u, Auth: a}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var forms []string
		switch {
		case !a.Token.IsZero():
			forms = []string{a.Token.Reveal()}
		case !a.Password.IsZero():
			forms = []string{a.Password.Reveal(), base64.StdEncoding.EncodeToString([]byte("user:" + a.Password.Reveal()))}
		default:
			forms = []string{a.APIKey.Reveal(), base64.StdEncoding.EncodeToString([]byte(a.APIKey.Reveal() + ":x"))}
		}
		for _, f := range forms {
			if got := s.red.clean("<" + f + ">"); strings.Contains(got, f) {
				t.Errorf("%s: %q is not redacted: %q", a.Type, f, got)
			}
		}
		if s.tokenDisplay != "" || s.header != nil {
			t.Errorf("%s: token display %q, header %v", a.Type, s.tokenDisplay, s.header)
		}
	}
}

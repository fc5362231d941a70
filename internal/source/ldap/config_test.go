package ldap

import (
	"encoding/json"

	"fmt"
	goldap "github.com/go-ldap/ldap/v3"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const secret = "S3cret-bind-pw"

func parse(raw map[string]any, env map[string]string) (Config, error) {
	return Parse(raw, Env{
		Dir:    "/etc/hrsync",
		Getenv: func(n string) string { return env[n] },
		Where:  func(key string) string { return "hrsync.yaml:" + fmt.Sprint(len(key)) },
	})
}

func base() map[string]any {
	return map[string]any{"url": "ldaps://ldap.example.org", "base_dn": "ou=people,dc=example,dc=org", "preset": "inetorgperson",
		"bind_dn": "cn=hrsync,dc=example,dc=org"}
}

func with(over map[string]any) map[string]any {
	raw := base()
	for k, v := range over {
		if v == nil {
			delete(raw, k)
		} else {
			raw[k] = v
		}
	}
	return raw
}

func TestParsePresets(t *testing.T) {
	c, err := parse(base(), map[string]string{DefaultPasswordEnv: secret})
	if err != nil {
		t.Fatal(err)
	}
	if c.Filter != "(&(objectClass=inetOrgPerson)(employeeNumber=*))" || len(c.Attributes) != 10 || c.Attributes[5] != "employeeNumber" ||
		fmt.Sprint(c.References) != "[{manager employeeNumber}]" || !c.StartTLS || c.PageSize != DefaultPageSize || c.Timeout != DefaultTimeout {
		t.Errorf("inetorgperson: %+v", c)
	}
	if c.Password.Reveal() != secret || c.PasswordFrom != DefaultPasswordEnv {
		t.Errorf("password from %s", c.PasswordFrom)
	}
	// The password never prints.
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, secret) {
			t.Errorf("config prints the password: %s", s)
		}
	}
	if b, _ := json.Marshal(c); strings.Contains(string(b), secret) {
		t.Errorf("config JSON shows the password")
	}

	ad, err := parse(with(map[string]any{"preset": "Active_Directory", "bind_dn": "svc-hrsync@contoso.com"}), map[string]string{DefaultPasswordEnv: secret})
	if err != nil {
		t.Fatal(err)
	}
	if ad.Preset != PresetActiveDirectory || !strings.Contains(ad.Filter, "(objectCategory=person)(objectClass=user)") || fmt.Sprint(ad.References) != "[{manager employeeID}]" {
		t.Errorf("active_directory: %+v", ad)
	}

	// Explicit keys override the preset; the preset's reference goes with
	// an attribute list that leaves manager out.
	c, err = parse(with(map[string]any{"filter": "(objectClass=person)", "attributes": []any{"uid", "cn"}}), map[string]string{DefaultPasswordEnv: secret})
	if err != nil || c.Filter != "(objectClass=person)" || fmt.Sprint(c.Attributes) != "[uid cn]" || len(c.References) != 0 {
		t.Errorf("overridden: %+v, %v", c, err)
	}
	c, err = parse(with(map[string]any{"references": nil}), map[string]string{DefaultPasswordEnv: secret})
	if err != nil || len(c.References) != 1 {
		t.Errorf("references left to the preset: %+v, %v", c.References, err)
	}
	raw := base()
	raw["references"] = nil // references: ~ turns them off
	if c, err = parse(raw, map[string]string{DefaultPasswordEnv: secret}); err != nil || len(c.References) != 0 {
		t.Errorf("references: ~ gave %+v, %v", c.References, err)
	}
}

func TestParsePassword(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw.txt")
	if err := os.WriteFile(pw, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parse(with(map[string]any{"password_file": pw}), nil)
	if err != nil || c.Password.Reveal() != secret || c.PasswordFrom != "file "+pw {
		t.Errorf("password_file: %v from %s", err, c.PasswordFrom)
	}
	c, err = parse(with(map[string]any{"password_env": "LDAP_PW"}), map[string]string{"LDAP_PW": secret})
	if err != nil || c.Password.Reveal() != secret {
		t.Errorf("password_env: %v", err)
	}
	// Relative to the config file's folder.
	c, err = Parse(with(map[string]any{"password_file": "pw.txt"}), Env{Dir: dir})
	if err != nil || c.Password.Reveal() != secret {
		t.Errorf("relative password_file: %v", err)
	}
	// Anonymous: no bind DN, no password.
	c, err = parse(with(map[string]any{"bind_dn": nil}), nil)
	if err != nil || c.BindDN != "" || !c.Password.IsZero() {
		t.Errorf("anonymous: %+v, %v", c, err)
	}
}

func TestParseErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{DefaultPasswordEnv: secret}
	for _, c := range []struct {
		name string
		raw  map[string]any
		env  map[string]string
		want string
	}{
		{"no url", with(map[string]any{"url": nil}), env, "source.ldap.url: missing"},
		{"http url", with(map[string]any{"url": "https://ldap.example.org"}), env, "the scheme must be ldaps"},
		{"url with a base", with(map[string]any{"url": "ldap://ldap.example.org/dc=example,dc=org"}), env, "the search base goes in base_dn"},
		{"url with a user", with(map[string]any{"url": "ldaps://admin:pw@ldap.example.org"}), env, "no user information in the URL"},
		{"plain to another host", with(map[string]any{"url": "ldap://ldap.example.org", "start_tls": false}), env, "source.ldap.start_tls: false is allowed only for a directory on this machine"},
		{"start_tls not a boolean", with(map[string]any{"start_tls": "perhaps"}), env, "source.ldap.start_tls: \"perhaps\" is not true or false"},
		{"no base", with(map[string]any{"base_dn": nil}), env, "source.ldap.base_dn: missing"},
		{"bad base", with(map[string]any{"base_dn": "people"}), env, "source.ldap.base_dn: \"people\" is not a DN"},
		{"bad bind DN", with(map[string]any{"bind_dn": "hrsync"}), env, "source.ldap.bind_dn: \"hrsync\" is neither a DN"},
		{"no password", base(), nil, "no bind password for cn=hrsync,dc=example,dc=org: the environment variable HRSYNC_SOURCE_PASSWORD is empty"},
		{"empty password file", with(map[string]any{"password_file": empty}), nil, "is empty"},
		{"missing password file", with(map[string]any{"password_file": "nope.txt"}), nil, "source.ldap.password_file: open /etc/hrsync/nope.txt"},
		{"password in the file", with(map[string]any{"password": secret}), env, "source.ldap.password: the bind password never goes in the config file"},
		{"password without bind DN", with(map[string]any{"bind_dn": nil, "password_env": "X"}), env, "no bind_dn to use it with"},
		{"unknown preset", with(map[string]any{"preset": "novell"}), env, "source.ldap.preset: unknown \"novell\"; use one of active_directory, inetorgperson"},
		{"unknown key", with(map[string]any{"atributes": []any{"uid"}}), env, "source.ldap.atributes: unknown key; did you mean attributes?"},
		{"no filter", with(map[string]any{"preset": nil, "attributes": []any{"uid"}}), env, "source.ldap.filter: missing"},
		{"bad filter", with(map[string]any{"filter": "objectClass=person"}), env, "source.ldap.filter: \"objectClass=person\" is not an LDAP filter"},
		{"no attributes", with(map[string]any{"preset": nil, "filter": "(uid=*)"}), env, "source.ldap.attributes: missing"},
		{"attributes not a list", with(map[string]any{"attributes": "uid"}), env, "expected a list of attribute names"},
		{"bad attribute", with(map[string]any{"attributes": []any{"uid", "given name"}}), env, "source.ldap.attributes.1: \"given name\" is not an attribute name"},
		{"duplicate attribute", with(map[string]any{"attributes": []any{"uid", "UID"}}), env, "source.ldap.attributes.1: UID is listed twice"},
		{"password attribute", with(map[string]any{"attributes": []any{"uid", "userPassword"}}), env, "userPassword holds passwords"},
		{"ranged attribute", with(map[string]any{"attributes": []any{"member;range=0-10"}}), env, "name the attribute without ;range="},
		{"reference not listed", with(map[string]any{"attributes": []any{"uid"}, "references": map[string]any{"manager": "uid"}}), env, "source.ldap.references.manager: manager is not among the attributes"},
		{"reference to a reference", with(map[string]any{"attributes": []any{"uid", "manager", "secretary"}, "references": map[string]any{"manager": "secretary", "secretary": "uid"}}), env, "secretary is itself a reference"},
		{"reference by dn", with(map[string]any{"references": map[string]any{"manager": "dn"}}), env, "the attribute already holds the entry's DN"},
		{"references not a map", with(map[string]any{"references": []any{"manager"}}), env, "expected a map from a DN-valued attribute"},
		{"page size", with(map[string]any{"page_size": 0}), env, "source.ldap.page_size: 0 is out of range"},
		{"timeout", with(map[string]any{"timeout": "soon"}), env, "source.ldap.timeout: \"soon\" is not a positive duration"},
		{"missing CA file", with(map[string]any{"ca_file": "ca.pem"}), env, "source.ldap.ca_file: stat /etc/hrsync/ca.pem"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse(c.raw, c.env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "hrsync.yaml:") {
				t.Errorf("error does not name its place: %v", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestValidAttr(t *testing.T) {
	for name, want := range map[string]bool{
		"uid": true, "employeeNumber": true, "msDS-UserPasswordExpiryTimeComputed": true, "userCertificate;binary": true,
		"cn;lang-de": true, "2.5.4.3": true, "": false, "given name": false, "1uid": false, "-x": false, "uid;": false, "2.5.x": false,
	} {
		if got := validAttr(name); got != want {
			t.Errorf("validAttr(%q) = %v", name, got)
		}
	}
}

func TestSplitRange(t *testing.T) {
	for _, c := range []struct {
		in, name string
		r        attrRange
		ok, bad  bool
	}{
		{"member", "member", attrRange{}, false, false},
		{"member;range=0-1499", "member", attrRange{0, 1499}, true, false},
		{"member;Range=1500-*", "member", attrRange{1500, -1}, true, false},
		{"userCertificate;binary;range=0-9", "userCertificate;binary", attrRange{0, 9}, true, false},
		{"member;range=x-1", "member", attrRange{}, true, true},
		{"member;range=5-1", "member", attrRange{}, true, true},
	} {
		name, r, ok, bad := splitRange(c.in)
		if name != c.name || r != c.r || ok != c.ok || bad != c.bad {
			t.Errorf("splitRange(%q) = %q %v %v %v", c.in, name, r, ok, bad)
		}
	}
}

func TestCanonicalDN(t *testing.T) {
	a := canonicalDN("uid=Ana García,ou=People, dc=Example,DC=org")
	for _, dn := range []string{"UID=ana garcía,OU=people,DC=example,DC=org", "uid=ana  garcía, ou=people, dc=example, dc=org", `uid=Ana Garc\C3\ADa,ou=people,dc=example,dc=org`} {
		if got := canonicalDN(dn); got != a {
			t.Errorf("canonicalDN(%q) = %q, want %q", dn, got, a)
		}
	}
	// The fast path for plain DNs agrees with parsing.
	for _, dn := range []string{"uid=p001,ou=people,dc=example,dc=org", "CN=Ana Garcia,OU=Staff Members,DC=contoso,DC=test",
		"cn=a.b-c_d@x,dc=y", "CN=Zoë Müller,DC=x", "cn=a  b,dc=x", "cn=a ,dc=x", "cn=a+sn=b,dc=x", `cn=a\,b,dc=x`, "cn=a,,dc=x", "=a", "cn=a=b"} {
		parsed, err := goldap.ParseDN(dn)
		if err != nil || !plainDN(dn) {
			continue
		}
		var parts []string
		for _, rdn := range parsed.RDNs {
			parts = append(parts, strings.ToLower(rdn.Attributes[0].Type)+"="+goldap.EscapeDN(strings.ToLower(rdn.Attributes[0].Value)))
		}
		if got := canonicalDN(dn); got != strings.Join(parts, ",") {
			t.Errorf("canonicalDN(%q) = %q, parsing gives %q", dn, got, strings.Join(parts, ","))
		}
	}
	for dn, plain := range map[string]bool{"uid=p001,ou=people,dc=example,dc=org": true, "CN=Ana Garcia,DC=x": true, "CN=Zoë,DC=x": false,
		"cn=a  b,dc=x": false, "cn=a ,dc=x": false, "cn=a+sn=b": false, `cn=a\,b`: false, "cn=a=b": false, "cn=a,": false, "": false} {
		if plainDN(dn) != plain {
			t.Errorf("plainDN(%q) = %v", dn, !plain)
		}
	}
	if canonicalDN("cn=a+sn=b,dc=x") != canonicalDN("SN=B+cn=A,dc=x") {
		t.Error("multi-valued RDNs in another order differ")
	}
	if canonicalDN("uid=ana,ou=people,dc=example,dc=org") == canonicalDN("uid=ana,ou=staff,dc=example,dc=org") {
		t.Error("different DNs compare equal")
	}
}

func TestTextValue(t *testing.T) {
	guid := []byte{0xe0, 0x04, 0x25, 0x3f, 0x89, 0x4f, 0xd3, 0x11, 0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01}
	sid := []byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0xdc, 0xf4, 0xdc, 0x3b, 0x83, 0x3d, 0x2b, 0x46, 0x82, 0x8b, 0xa6, 0x28, 0x00, 0x02, 0x00, 0x00}
	for _, c := range []struct {
		attr   string
		binary bool
		raw    []byte
		want   string
	}{
		{"objectguid", false, guid, "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
		{"objectsid", false, sid, "S-1-5-21-1004336348-1177238915-682003330-512"},
		{"jpegphoto", false, []byte("JFIF"), "SkZJRg=="},
		{"usercertificate", true, []byte("abc"), "YWJj"},
		{"description", false, []byte{0xff, 0x00}, "/wA="},
		{"description", false, []byte("a\x01b"), "YQFi"},
		{"description", false, []byte("Zoë\tMüller\r\n"), "Zoë\tMüller\r\n"},
		{"cn", false, []byte("Łukasz"), "Łukasz"},
	} {
		if got := textValue(c.attr, c.binary, c.raw, string(c.raw)); got != c.want {
			t.Errorf("%s %x = %q, want %q", c.attr, c.raw, got, c.want)
		}
	}
}

package entra

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A decoder for the pages of users Graph sends, and the $batch responses
// that carry them: the bulk of a read's CPU went to encoding/json (which
// scans every body twice, reflects on every field and allocates a pointer
// per property). This one walks the bytes once, fills rawUser directly,
// boxes a page's properties in one slab, and gives values many users share
// (departments, companies, managers' ids) one string through an interner.
// Unknown properties are skipped; anything that is not well-formed JSON is
// an error, never a partial page. FuzzDecodePage checks it against
// encoding/json.

// errSyntax is a malformed body.
var errSyntax = errors.New("malformed JSON")

type jscan struct {
	b     []byte
	i     int
	err   error
	in    interner // nil: no sharing
	slab  []string // boxes for *string properties
	depth int
}

func (s *jscan) fail(what string) {
	if s.err == nil {
		s.err = fmt.Errorf("%w at byte %d: %s", errSyntax, s.i, what)
	}
	s.i = len(s.b)
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end).
func (s *jscan) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *jscan) expect(c byte) bool {
	if s.peek() != c {
		s.fail("want " + string(c))
		return false
	}
	s.i++
	return true
}

// lit consumes a literal (true, false, null).
func (s *jscan) lit(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	s.fail("bad literal")
	return false
}

// rawStr consumes a string and returns its bytes between the quotes and
// whether they hold escapes.
func (s *jscan) rawStr() ([]byte, bool) {
	if !s.expect('"') {
		return nil, false
	}
	start, esc := s.i, false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw := s.b[start:s.i]
			s.i++
			return raw, esc
		case c == '\\':
			esc = true
			s.i += 2
		case c < 0x20:
			s.fail("control character in string")
			return nil, false
		default:
			s.i++
		}
	}
	s.fail("unterminated string")
	return nil, false
}

// unescape decodes a string's escapes as encoding/json does (invalid
// UTF-8 and lone surrogates become U+FFFD).
func (s *jscan) unescape(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			if c < utf8.RuneSelf {
				out = append(out, c)
				i++
				continue
			}
			r, n := utf8.DecodeRune(raw[i:])
			out = utf8.AppendRune(out, r)
			i += n
			continue
		}
		if i+1 >= len(raw) {
			s.fail("bad escape")
			return ""
		}
		switch e := raw[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
			i += 2
		case 'b':
			out = append(out, '\b')
			i += 2
		case 'f':
			out = append(out, '\f')
			i += 2
		case 'n':
			out = append(out, '\n')
			i += 2
		case 'r':
			out = append(out, '\r')
			i += 2
		case 't':
			out = append(out, '\t')
			i += 2
		case 'u':
			r, ok := hex4(raw, i+2)
			if !ok {
				s.fail("bad \\u escape")
				return ""
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(raw, i+2); ok && i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						out = utf8.AppendRune(out, d)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default:
			s.fail("bad escape")
			return ""
		}
	}
	return string(out)
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[at:at+4]), 16, 32)
	return rune(v), err == nil
}

// str consumes a string value; shared ones go through the interner.
func (s *jscan) str(shared bool) string {
	raw, esc := s.rawStr()
	if s.err != nil {
		return ""
	}
	if esc || !utf8.Valid(raw) {
		v := s.unescape(raw)
		if shared && s.in != nil {
			return s.in.str(v)
		}
		return v
	}
	if shared && s.in != nil {
		if v, ok := s.in[string(raw)]; ok {
			return v
		}
		v := string(raw)
		s.in[v] = v
		return v
	}
	return string(raw)
}

// box stores v in the page's slab and returns a pointer to it.
func (s *jscan) box(v string) *string {
	if len(s.slab) == cap(s.slab) {
		s.slab = make([]string, 0, 256)
	}
	s.slab = append(s.slab, v)
	return &s.slab[len(s.slab)-1]
}

// nstr consumes a string or null (nil).
func (s *jscan) nstr(shared bool) *string {
	if s.peek() == 'n' {
		s.lit("null")
		return nil
	}
	v := s.str(shared)
	if s.err != nil {
		return nil
	}
	return s.box(v)
}

// nbool consumes true, false or null (nil).
func (s *jscan) nbool() *bool {
	switch s.peek() {
	case 't':
		s.lit("true")
		t := true
		return &t
	case 'f':
		s.lit("false")
		f := false
		return &f
	case 'n':
		s.lit("null")
		return nil
	}
	s.fail("want a boolean")
	return nil
}

// integer consumes a number that must be an integer.
func (s *jscan) integer() int {
	s.ws()
	start := s.i
	s.skipNumber()
	n, err := strconv.Atoi(string(s.b[start:s.i]))
	if err != nil {
		s.fail("want an integer")
	}
	return n
}

func (s *jscan) skipNumber() {
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		s.fail("bad number")
		return
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			s.fail("bad number")
			return
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			s.fail("bad number")
			return
		}
	}
	if s.i == start {
		s.fail("bad number")
	}
}

// skip consumes any value.
func (s *jscan) skip() {
	switch s.peek() {
	case '{':
		s.object(func([]byte) { s.skip() })
	case '[':
		s.array(s.skip)
	case '"':
		s.rawStr()
	case 't':
		s.lit("true")
	case 'f':
		s.lit("false")
	case 'n':
		s.lit("null")
	default:
		s.skipNumber()
	}
}

// object consumes an object, calling f with each key (its raw bytes,
// escapes decoded) positioned at the value, which f must consume.
func (s *jscan) object(f func(key []byte)) {
	if !s.expect('{') {
		return
	}
	if s.depth++; s.depth > 64 {
		s.fail("nested too deep")
		return
	}
	defer func() { s.depth-- }()
	if s.peek() == '}' {
		s.i++
		return
	}
	for s.err == nil {
		raw, esc := s.rawStr()
		if esc {
			raw = []byte(s.unescape(raw))
		}
		if !s.expect(':') {
			return
		}
		f(raw)
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return
		default:
			s.fail("want , or }")
			return
		}
	}
}

// array consumes an array, calling f at each element, which f must
// consume.
func (s *jscan) array(f func()) {
	if !s.expect('[') {
		return
	}
	if s.depth++; s.depth > 64 {
		s.fail("nested too deep")
		return
	}
	defer func() { s.depth-- }()
	if s.peek() == ']' {
		s.i++
		return
	}
	for s.err == nil {
		f()
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return
		default:
			s.fail("want , or ]")
			return
		}
	}
}

// end checks nothing but space follows the value.
func (s *jscan) end() {
	if s.peek() != 0 && s.err == nil {
		s.fail("data after the value")
	}
}

// isNull consumes a null if one is next.
func (s *jscan) isNull() bool {
	if s.peek() == 'n' {
		s.lit("null")
		return true
	}
	return false
}

// removed consumes an "@removed" value: an object (or null).
func (s *jscan) removed() *map[string]any {
	if s.isNull() {
		return nil
	}
	m := map[string]any{}
	s.object(func(k []byte) {
		if string(k) == "reason" && s.peek() == '"' {
			m["reason"] = s.str(false)
			return
		}
		s.skip()
	})
	return &m
}

// user decodes one user object into u.
func (s *jscan) user(u *rawUser) {
	s.object(func(k []byte) {
		switch string(k) {
		case "id":
			if s.isNull() {
				u.ID = ""
				return
			}
			u.ID = s.str(false)
		case "accountEnabled":
			u.AccountEnabled = s.nbool()
		case "displayName":
			u.DisplayName = s.nstr(false)
		case "givenName":
			u.GivenName = s.nstr(false)
		case "surname":
			u.Surname = s.nstr(false)
		case "userPrincipalName":
			u.UserPrincipalName = s.nstr(false)
		case "mailNickname":
			u.MailNickname = s.nstr(false)
		case "mail":
			u.Mail = s.nstr(false)
		case "jobTitle":
			u.JobTitle = s.nstr(true)
		case "department":
			u.Department = s.nstr(true)
		case "companyName":
			u.CompanyName = s.nstr(true)
		case "officeLocation":
			u.OfficeLocation = s.nstr(true)
		case "employeeId":
			u.EmployeeID = s.nstr(false)
		case "employeeType":
			u.EmployeeType = s.nstr(true)
		case "employeeHireDate":
			u.EmployeeHireDate = s.nstr(true)
		case "employeeLeaveDateTime":
			u.EmployeeLeaveDateTime = s.nstr(true)
		case "employeeOrgData":
			if s.isNull() {
				u.EmployeeOrgData = nil
				return
			}
			if u.EmployeeOrgData == nil {
				u.EmployeeOrgData = &struct {
					Division   *string `json:"division"`
					CostCenter *string `json:"costCenter"`
				}{}
			}
			s.object(func(k []byte) {
				switch string(k) {
				case "division":
					u.EmployeeOrgData.Division = s.nstr(true)
				case "costCenter":
					u.EmployeeOrgData.CostCenter = s.nstr(true)
				default:
					s.skip()
				}
			})
		case "streetAddress":
			u.StreetAddress = s.nstr(true)
		case "city":
			u.City = s.nstr(true)
		case "state":
			u.State = s.nstr(true)
		case "postalCode":
			u.PostalCode = s.nstr(true)
		case "country":
			u.Country = s.nstr(true)
		case "usageLocation":
			u.UsageLocation = s.nstr(true)
		case "mobilePhone":
			u.MobilePhone = s.nstr(false)
		case "preferredLanguage":
			u.PreferredLanguage = s.nstr(true)
		case "manager":
			if s.isNull() {
				u.Manager = nil
				return
			}
			if u.Manager == nil {
				u.Manager = &struct {
					ID string `json:"id"`
				}{}
			}
			s.object(func(k []byte) {
				if string(k) == "id" && !s.isNull() {
					u.Manager.ID = s.str(true)
					return
				}
				s.skip()
			})
		case "manager@delta":
			if s.isNull() {
				u.ManagerDelta = nil
				return
			}
			u.ManagerDelta = u.ManagerDelta[:0]
			if u.ManagerDelta == nil {
				u.ManagerDelta = []struct {
					ID      string          `json:"id"`
					Removed *map[string]any `json:"@removed"`
				}{}
			}
			s.array(func() {
				var m struct {
					ID      string          `json:"id"`
					Removed *map[string]any `json:"@removed"`
				}
				s.object(func(k []byte) {
					switch string(k) {
					case "id":
						if !s.isNull() {
							m.ID = s.str(true)
						}
					case "@removed":
						m.Removed = s.removed()
					default:
						s.skip()
					}
				})
				u.ManagerDelta = append(u.ManagerDelta, m)
			})
		case "licenseAssignmentStates":
			if s.isNull() {
				u.LicenseAssignmentStates = nil
				return
			}
			u.LicenseAssignmentStates = u.LicenseAssignmentStates[:0]
			if u.LicenseAssignmentStates == nil {
				u.LicenseAssignmentStates = []struct {
					SkuID           string  `json:"skuId"`
					AssignedByGroup *string `json:"assignedByGroup"`
				}{}
			}
			s.array(func() {
				var l struct {
					SkuID           string  `json:"skuId"`
					AssignedByGroup *string `json:"assignedByGroup"`
				}
				s.object(func(k []byte) {
					switch string(k) {
					case "skuId":
						if !s.isNull() {
							l.SkuID = s.str(true)
						}
					case "assignedByGroup":
						l.AssignedByGroup = s.nstr(true)
					default:
						s.skip()
					}
				})
				u.LicenseAssignmentStates = append(u.LicenseAssignmentStates, l)
			})
		case "deletedDateTime":
			u.DeletedDateTime = s.nstr(false)
		case "onPremisesSyncEnabled":
			u.OnPremisesSyncEnabled = s.nbool()
		case "onPremisesDistinguishedName":
			u.OnPremisesDistinguishedName = s.nstr(false)
		case "onPremisesLastSyncDateTime":
			u.OnPremisesLastSyncDateTime = s.nstr(true)
		case "signInSessionsValidFromDateTime":
			u.SignInSessionsValidFromDateTime = s.nstr(true)
		case "@removed":
			u.Removed = s.removed()
		default:
			s.skip()
		}
	})
}

// page decodes a page of users into pg.
func (s *jscan) page(pg *userPage) {
	if s.isNull() {
		return
	}
	s.object(func(k []byte) {
		switch string(k) {
		case "value":
			if s.isNull() {
				pg.Value = nil
				return
			}
			if pg.Value = pg.Value[:0]; pg.Value == nil {
				pg.Value = make([]rawUser, 0, expandPageSize)
			}
			s.array(func() {
				if s.isNull() {
					pg.Value = append(pg.Value, rawUser{})
					return
				}
				pg.Value = append(pg.Value, rawUser{})
				s.user(&pg.Value[len(pg.Value)-1])
			})
		case "@odata.nextLink":
			if !s.isNull() {
				pg.NextLink = s.str(false)
			}
		case "@odata.deltaLink":
			if !s.isNull() {
				pg.DeltaLink = s.str(false)
			}
		case "@odata.count":
			if s.isNull() {
				pg.Count = nil
				return
			}
			n := s.integer()
			pg.Count = &n
		default:
			s.skip()
		}
	})
}

// decodePage decodes a page of users (GET /users, /users/delta); in, if
// not nil, shares repeated values.
func decodePage(b []byte, pg *userPage, in interner) error {
	s := &jscan{b: b, in: in}
	s.page(pg)
	s.end()
	return s.err
}

// pageError is the error of a failed $batch item.
type pageError struct {
	Code    string
	Message string
	Detail  string
}

// batchItem is one response of a $batch of page requests.
type batchItem struct {
	ID      string
	Status  int
	Headers map[string]string
	Page    userPage
	Error   *pageError
}

// decodeBatch decodes a $batch response whose items are pages of users
// (or errors).
func decodeBatch(b []byte, in interner) ([]batchItem, error) {
	s := &jscan{b: b, in: in}
	var out []batchItem
	s.object(func(k []byte) {
		if string(k) != "responses" {
			s.skip()
			return
		}
		s.array(func() {
			var it batchItem
			s.object(func(k []byte) {
				switch string(k) {
				case "id":
					if s.peek() == '"' {
						it.ID = s.str(false)
					} else {
						it.ID = strconv.Itoa(s.integer())
					}
				case "status":
					it.Status = s.integer()
				case "headers":
					if s.isNull() {
						return
					}
					it.Headers = map[string]string{}
					s.object(func(k []byte) {
						if s.peek() == '"' {
							it.Headers[string(k)] = s.str(false)
							return
						}
						s.skip()
					})
				case "body":
					if s.peek() != '{' {
						s.skip()
						return
					}
					// A body is a page or an error; decode it as a page
					// and keep an "error" member when there is one.
					start := s.i
					s.page(&it.Page)
					if it.Status >= 300 || it.Status == 0 {
						it.Error = errorOf(b[start:s.i])
					}
				default:
					s.skip()
				}
			})
			out = append(out, it)
		})
	})
	s.end()
	return out, s.err
}

// errorOf reads Graph's error envelope {"error":{"code","message",
// "details":[{"code"}]}} from a body (nil when it holds none).
func errorOf(b []byte) *pageError {
	s := &jscan{b: b}
	var e *pageError
	s.object(func(k []byte) {
		if string(k) != "error" || s.peek() != '{' {
			s.skip()
			return
		}
		e = &pageError{}
		s.object(func(k []byte) {
			switch {
			case string(k) == "code" && s.peek() == '"':
				e.Code = s.str(false)
			case string(k) == "message" && s.peek() == '"':
				e.Message = s.str(false)
			case string(k) == "details" && s.peek() == '[':
				s.array(func() {
					if s.peek() != '{' {
						s.skip()
						return
					}
					s.object(func(k []byte) {
						if string(k) == "code" && s.peek() == '"' {
							if c := s.str(false); e.Detail == "" {
								e.Detail = c
							}
							return
						}
						s.skip()
					})
				})
			default:
				s.skip()
			}
		})
	})
	return e
}

package graphsim

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const (
	defaultPageSize = 100
	maxPageSize     = 999
	// expandPageCap is Graph's documented limit on objects per page when
	// $expand is used on directory objects, whatever $top says.
	expandPageCap = 100
)

// queryOpts are the parsed OData query options of a users request.
type queryOpts struct {
	sel           []*propDef // nil = default property set
	top           int
	filter        *fnode
	expandManager bool
	managerSel    []*propDef // nil = default property set
	skipSeq       uint64     // continue after this sequence number
	count         bool       // $count=true with ConsistencyLevel: eventual
}

// parseQuery parses the query options of r. collection says whether the
// target is a collection (only then $top, $filter, $skiptoken, $count apply).
func parseQuery(r *request, collection bool) (*queryOpts, *graphError) {
	q := &queryOpts{top: defaultPageSize}
	for key := range r.query {
		if !strings.HasPrefix(key, "$") {
			continue // not a system query option; Graph ignores those
		}
		switch key {
		case "$select", "$expand":
		case "$top", "$filter", "$skiptoken", "$count":
			if !collection {
				return nil, newError(http.StatusBadRequest, "BadRequest",
					"The query specified in the URI is not valid. The requested resource is not a collection. "+
						"Query options $filter, $orderby, $count, $skip, and $top can be applied only on collections.")
			}
		case "$orderby", "$search", "$skip", "$format", "$levels", "$apply", "$compute", "$deltatoken":
			return nil, errNotImplemented("the " + key + " query option")
		default:
			return nil, newError(http.StatusBadRequest, "BadRequest", "The query parameter '"+key+"' is not supported.")
		}
	}
	var gerr *graphError
	if v, ok := r.query["$select"]; ok {
		if q.sel, gerr = parseSelect(strings.Join(v, ",")); gerr != nil {
			return nil, gerr
		}
	}
	if v, ok := r.query["$expand"]; ok {
		if gerr = q.parseExpand(strings.Join(v, ",")); gerr != nil {
			return nil, gerr
		}
	}
	if !collection {
		return q, nil
	}
	if q.top, gerr = topOption(r); gerr != nil {
		return nil, gerr
	}
	countParam := strings.EqualFold(strings.TrimSpace(r.query.Get("$count")), "true")
	if v := r.query.Get("$count"); v != "" && !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
		return nil, newError(http.StatusBadRequest, "BadRequest", "Invalid value '"+v+"' for $count query option found. The $count query option requires a Boolean value.")
	}
	advanced := countParam && strings.EqualFold(strings.TrimSpace(r.header.Get("ConsistencyLevel")), "eventual")
	q.count = advanced
	if r.query.Has("$filter") {
		expr := strings.TrimSpace(r.query.Get("$filter"))
		if expr == "" {
			return nil, errFilterSyntax(expr, 0)
		}
		if q.filter, gerr = parseFilter(expr, advanced); gerr != nil {
			return nil, gerr
		}
	}
	if q.skipSeq, gerr = skipTokenOption(r); gerr != nil {
		return nil, gerr
	}
	return q, nil
}

// topOption returns the page size $top asks for (1-999), or the default
// 100.
func topOption(r *request) (int, *graphError) {
	v, ok := r.query["$top"]
	if !ok {
		return defaultPageSize, nil
	}
	raw := strings.Join(v, ",")
	n, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || n < 1 || n > maxPageSize {
		return 0, newError(http.StatusBadRequest, "Request_UnsupportedQuery",
			"Invalid page size specified: '"+raw+"'. Must be between 1 and 999 inclusive.")
	}
	return n, nil
}

// skipTokenOption returns the sequence number a $skiptoken continues after
// (0 without one).
func skipTokenOption(r *request) (uint64, *graphError) {
	if !r.query.Has("$skiptoken") {
		return 0, nil
	}
	seq, ok := decodeSkipToken(r.query.Get("$skiptoken"))
	if !ok {
		return 0, newError(http.StatusBadRequest, "Request_BadRequest", "The specified page token value has expired or is invalid.")
	}
	return seq, nil
}

// parseSelect resolves a comma-separated $select list.
func parseSelect(v string) ([]*propDef, *graphError) {
	var out []*propDef
	seen := map[*propDef]bool{}
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		p := propByName[strings.ToLower(name)]
		if p == nil {
			return nil, newError(http.StatusBadRequest, "Request_BadRequest",
				"Could not find a property named '"+name+"' on type 'microsoft.graph.user'.")
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// parseExpand handles $expand=manager and $expand=manager($select=a,b).
func (q *queryOpts) parseExpand(v string) *graphError {
	for _, item := range splitTopLevel(v) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, opts, hasOpts := strings.Cut(item, "(")
		name = strings.TrimSpace(name)
		if !strings.EqualFold(name, "manager") {
			if isKnownUserNavigation(strings.ToLower(name)) {
				return errNotImplemented("$expand=" + name)
			}
			return newError(http.StatusBadRequest, "Request_BadRequest",
				"Could not find a property named '"+name+"' on type 'microsoft.graph.user'.")
		}
		q.expandManager = true
		if !hasOpts {
			continue
		}
		opts, ok := strings.CutSuffix(strings.TrimSpace(opts), ")")
		if !ok {
			return newError(http.StatusBadRequest, "BadRequest", "Invalid $expand clause: '"+item+"'.")
		}
		for _, o := range strings.Split(opts, ";") {
			k, val, _ := strings.Cut(strings.TrimSpace(o), "=")
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "":
			case "$select":
				sel, gerr := parseSelect(val)
				if gerr != nil {
					return gerr
				}
				q.managerSel = sel
			default:
				return errNotImplemented("the " + strings.TrimSpace(k) + " option inside $expand")
			}
		}
	}
	return nil
}

// splitTopLevel splits on commas that are not inside parentheses.
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// selectList renders the selection for @odata.context, e.g. "id,displayName".
func selectList(sel []*propDef) string {
	names := make([]string, len(sel))
	for i, p := range sel {
		names[i] = p.name
	}
	return strings.Join(names, ",")
}

const skipTokenPrefix = "gsim1."

// encodeSkipToken makes the opaque $skiptoken that continues after seq.
func encodeSkipToken(seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(skipTokenPrefix + strconv.FormatUint(seq, 10)))
}

func decodeSkipToken(tok string) (uint64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), skipTokenPrefix)
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseUint(rest, 10, 64)
	return seq, err == nil
}

// nextLink builds the absolute @odata.nextLink: the original query with the
// new $skiptoken.
func nextLink(r *request, seq uint64) string {
	var b strings.Builder
	b.WriteString(r.base)
	b.WriteString("/v1.0")
	b.WriteString(r.path)
	b.WriteByte('?')
	n := 0
	for _, part := range strings.Split(r.rawQuery, "&") {
		if part == "" {
			continue
		}
		k, _, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil && strings.EqualFold(dk, "$skiptoken") {
			continue
		}
		if n > 0 {
			b.WriteByte('&')
		}
		if rest, ok := strings.CutPrefix(part, "%24"); ok {
			part = "$" + rest // show system query options as Graph does
		}
		b.WriteString(part)
		n++
	}
	if n > 0 {
		b.WriteByte('&')
	}
	b.WriteString("$skiptoken=")
	b.WriteString(encodeSkipToken(seq))
	return b.String()
}

package graphsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxBatchRequests is Graph's limit on requests in one JSON batch.
const maxBatchRequests = 20

type batchItemIn struct {
	ID        string                     `json:"id"`
	Method    string                     `json:"method"`
	URL       string                     `json:"url"`
	Headers   map[string]json.RawMessage `json:"headers"`
	Body      json.RawMessage            `json:"body"`
	DependsOn []string                   `json:"dependsOn"`
}

func errBatchFormat() *graphError {
	return newError(http.StatusBadRequest, "BadRequest", "Invalid batch payload format.")
}

// batch handles POST /$batch. With latency jitter the batch waits for the
// slowest of its items' jitter draws, as Graph runs them side by side.
// Items run one at a time through the same handlers as top-level requests, in request order adjusted so that every
// item runs after the items it dependsOn; an item whose dependency failed
// gets 424. Responses are shuffled (Graph returns them in any order) unless
// Options.KeepBatchOrder is set.
func (s *Server) batch(r *request) *response {
	if r.inBatch {
		return s.fail(r, newError(http.StatusBadRequest, "BadRequest", "A $batch request cannot contain another $batch request."))
	}
	items, gerr := parseBatch(r.body)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	order, gerr := batchOrder(items)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	if !sleepCtx(r.ctx, s.faults.batchDelay(len(items))) {
		return s.fail(r, newError(http.StatusServiceUnavailable, "serviceNotAvailable", "The client went away."))
	}

	statuses := make(map[string]int, len(items)) // lower-cased id -> status
	out := make([][]byte, len(items))
	for _, idx := range order {
		it := &items[idx]
		var resp *response
		failed := false
		for _, d := range it.DependsOn {
			if st := statuses[strings.ToLower(d)]; st >= 400 {
				failed = true
			}
		}
		sub := &request{ctx: r.ctx, method: strings.ToUpper(it.Method), base: r.base, requestID: r.requestID,
			clientRequestID: r.clientRequestID, inBatch: true, header: http.Header{}, appID: r.appID}
		for k, v := range it.Headers {
			var sv string
			if json.Unmarshal(v, &sv) == nil {
				sub.header.Set(k, sv)
			}
		}
		route := sub.method + " (unmatched)"
		if gerr := s.prepareBatchItem(sub, it); gerr != nil {
			resp = s.fail(sub, gerr)
		} else {
			var h handlerFunc
			route, h = s.route(sub.method, sub.segs)
			if failed {
				resp = s.fail(sub, newError(http.StatusFailedDependency, "FailedDependency",
					"The request depends on a request in the batch that failed."))
			} else {
				resp = s.dispatch(sub, route, h)
			}
		}
		s.count(sub.method, route, resp.status, true)
		statuses[strings.ToLower(it.ID)] = resp.status
		out[idx] = renderBatchItem(it.ID, resp)
		s.releasePage(resp)
	}

	if !s.opts.KeepBatchOrder {
		s.rngMu.Lock()
		s.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		s.rngMu.Unlock()
	}
	size := 64
	for _, item := range out {
		size += len(item) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, `{"responses":[`...)
	for i, item := range out {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, item...)
	}
	b = append(b, "]}"...)
	return jsonResponse(http.StatusOK, b)
}

// parseBatch decodes and validates the batch envelope.
func parseBatch(body []byte) ([]batchItemIn, *graphError) {
	var env struct {
		Requests []batchItemIn `json:"requests"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.Requests) == 0 {
		return nil, errBatchFormat()
	}
	if len(env.Requests) > maxBatchRequests {
		return nil, newError(http.StatusBadRequest, "BadRequest",
			"The number of requests in a batch ("+strconv.Itoa(len(env.Requests))+") exceeds the limit of 20.")
	}
	ids := make(map[string]bool, len(env.Requests))
	for i := range env.Requests {
		it := &env.Requests[i]
		if it.ID == "" || it.Method == "" || it.URL == "" {
			return nil, errBatchFormat()
		}
		key := strings.ToLower(it.ID)
		if ids[key] {
			return nil, newError(http.StatusBadRequest, "BadRequest", "Request Id "+it.ID+" has to be unique in a batch.")
		}
		ids[key] = true
		switch strings.ToUpper(it.Method) {
		case http.MethodPost, http.MethodPatch, http.MethodPut:
			if !hasBody(it.Body) || headerValue(it.Headers, "Content-Type") == "" {
				return nil, newError(http.StatusBadRequest, "BadRequest",
					"Write request id : "+it.ID+" does not contain Content-Type header or body.")
			}
		}
	}
	for i := range env.Requests {
		for _, d := range env.Requests[i].DependsOn {
			if !ids[strings.ToLower(d)] {
				return nil, newError(http.StatusBadRequest, "BadRequest",
					"Request Id "+env.Requests[i].ID+" depends on request Id "+d+", which is not in the batch.")
			}
		}
	}
	return env.Requests, nil
}

func hasBody(b json.RawMessage) bool {
	t := bytes.TrimSpace(b)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}

func headerValue(h map[string]json.RawMessage, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			var s string
			if json.Unmarshal(v, &s) == nil {
				return s
			}
		}
	}
	return ""
}

// batchOrder returns item indexes in execution order: request order, with
// each item after its dependencies. A dependency cycle is an error.
func batchOrder(items []batchItemIn) ([]int, *graphError) {
	index := make(map[string]int, len(items))
	for i := range items {
		index[strings.ToLower(items[i].ID)] = i
	}
	state := make([]uint8, len(items)) // 0 new, 1 visiting, 2 done
	order := make([]int, 0, len(items))
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case 1:
			return false
		case 2:
			return true
		}
		state[i] = 1
		for _, d := range items[i].DependsOn {
			if !visit(index[strings.ToLower(d)]) {
				return false
			}
		}
		state[i] = 2
		order = append(order, i)
		return true
	}
	for i := range items {
		if !visit(i) {
			return nil, newError(http.StatusBadRequest, "BadRequest",
				"The dependsOn properties of the batch requests form a cycle.")
		}
	}
	return order, nil
}

// prepareBatchItem fills the item's path, query and body.
func (s *Server) prepareBatchItem(sub *request, it *batchItemIn) *graphError {
	u, err := url.Parse(it.URL)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return newError(http.StatusBadRequest, "BadRequest", "Invalid request URL: the url of a batch request must be relative, e.g. /users.")
	}
	p := u.EscapedPath()
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	sub.path = p
	var gerr *graphError
	if sub.segs, gerr = splitPath(p); gerr != nil {
		return gerr
	}
	sub.rawQuery = u.RawQuery
	if sub.query, gerr = parseQueryString(u.RawQuery); gerr != nil {
		return gerr
	}
	if hasBody(it.Body) {
		sub.body = it.Body
	}
	return nil
}

// renderBatchItem renders one {"id","status","headers","body"} response.
func renderBatchItem(id string, resp *response) []byte {
	b := make([]byte, 0, 128+len(resp.body))
	b = append(b, `{"id":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"status":`...)
	b = appendInt(b, resp.status)
	b = append(b, `,"headers":{"Cache-Control":"no-cache"`...)
	for k, vs := range resp.header {
		if len(vs) == 0 {
			continue
		}
		b = append(b, ',')
		b = appendJSONString(b, batchHeaderName(k))
		b = append(b, ':')
		b = appendJSONString(b, strings.Join(vs, ","))
	}
	if resp.body != nil {
		b = append(b, `,"OData-Version":"4.0","Content-Type":`...)
		b = appendJSONString(b, jsonContentType)
	}
	b = append(b, '}')
	if resp.body != nil {
		b = append(b, `,"body":`...)
		b = append(b, resp.body...)
	}
	return append(b, '}')
}

// batchHeaderName spells a canonical header name as Graph does in $batch
// items: its x-ms-* headers in lower case, the others as they are.
func batchHeaderName(k string) string {
	if len(k) > 5 && strings.EqualFold(k[:5], "x-ms-") {
		return strings.ToLower(k)
	}
	return k
}

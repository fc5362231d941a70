package graphsim

import (
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// jsonContentType is the Content-Type Graph sends with JSON bodies.
const jsonContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// response is a handler's answer, written either to the wire or into a
// $batch response item.
type response struct {
	status int
	header http.Header // extra headers (Location, Retry-After, ...)
	body   []byte      // JSON document; nil for no content
	pooled bool        // body came from Server.pageBuf: release it once written
}

func jsonResponse(status int, body []byte) *response {
	return &response{status: status, body: body}
}

// maxPooledPage is the largest page buffer kept for reuse.
const maxPooledPage = 16 << 20

// pageBuf returns an empty buffer for a collection page of about size bytes.
// Listing a large tenant renders hundreds of multi-megabyte pages; recycling
// their buffers keeps the garbage collector from rescanning the directory
// over and over. Release it with releasePage once written.
func (s *Server) pageBuf(size int) []byte {
	if p, ok := s.pages.Get().(*[]byte); ok && cap(*p) >= size {
		return (*p)[:0]
	}
	return make([]byte, 0, size)
}

// releasePage recycles a pooled response body.
func (s *Server) releasePage(resp *response) {
	if resp == nil || !resp.pooled || cap(resp.body) > maxPooledPage {
		return
	}
	b := resp.body[:0]
	resp.body, resp.pooled = nil, false
	s.pages.Put(&b)
}

func noContent() *response { return &response{status: http.StatusNoContent} }

// graphError is an error in Graph's envelope. details are optional.
type graphError struct {
	status  int
	code    string
	message string
	details []errorDetail
	header  http.Header
}

type errorDetail struct {
	code, message, target string
}

func newError(status int, code, message string) *graphError {
	return &graphError{status: status, code: code, message: message}
}

// Error implements error so graph errors can travel through helper returns.
func (e *graphError) Error() string { return e.code + ": " + e.message }

func (e *graphError) withDetail(code, target string) *graphError {
	e.details = append(e.details, errorDetail{code: code, message: e.message, target: target})
	return e
}

// render builds the error response body:
// {"error":{"code","message","details"?,"innerError":{"date","request-id","client-request-id"}}}.
func (e *graphError) render(requestID, clientRequestID string, now time.Time) *response {
	b := make([]byte, 0, 256)
	b = append(b, `{"error":{"code":`...)
	b = appendJSONString(b, e.code)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, e.message)
	if len(e.details) > 0 {
		b = append(b, `,"details":[`...)
		for i, d := range e.details {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"code":`...)
			b = appendJSONString(b, d.code)
			b = append(b, `,"message":`...)
			b = appendJSONString(b, d.message)
			b = append(b, `,"target":`...)
			b = appendJSONString(b, d.target)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"innerError":{"date":`...)
	b = appendJSONString(b, now.UTC().Format("2006-01-02T15:04:05"))
	b = append(b, `,"request-id":`...)
	b = appendJSONString(b, requestID)
	b = append(b, `,"client-request-id":`...)
	b = appendJSONString(b, clientRequestID)
	b = append(b, "}}}"...)
	return &response{status: e.status, header: e.header, body: b}
}

// Common Graph errors.

func errNotFound(key string) *graphError {
	return newError(http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '"+key+"' does not exist or one of its queried reference-property objects are not present.")
}

func errSegment(seg string) *graphError {
	return newError(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+seg+"'.")
}

func errMethod() *graphError {
	return newError(http.StatusMethodNotAllowed, "Request_BadRequest",
		"Specified HTTP method is not allowed for the request target.")
}

func errInvalidValue(prop string) *graphError {
	return newError(http.StatusBadRequest, "Request_BadRequest",
		"Invalid value specified for property '"+prop+"' of resource 'User'.").withDetail("InvalidValue", prop)
}

func errUnreadableBody() *graphError {
	return newError(http.StatusBadRequest, "BadRequest",
		"Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
}

func errNotImplemented(what string) *graphError {
	return newError(http.StatusNotImplemented, "NotImplemented", "graphsim does not implement "+what+".")
}

// appendJSONString appends s as a JSON string literal. Invalid UTF-8 becomes
// U+FFFD, like encoding/json.
func appendJSONString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexd[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendTime formats t as Graph does (UTC, second precision) or null.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	return append(b, '"')
}

// appendNullableString appends s, or null when s is empty.
func appendNullableString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendJSONString(b, s)
}

// appendNullableBool appends *v, or null when v is nil.
func appendNullableBool(b []byte, v *bool) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return strconv.AppendBool(b, *v)
}

func appendInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }

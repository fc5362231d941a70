package entra

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/pacer"
)

// Parallel full reads.
//
// A full read no longer waits for one page after another: the users are
// split into partitions by userPrincipalName, each read by its own chain of
// pages, and the next pages of up to 20 partitions travel in one POST
// /$batch (readBatches in flight).
//
// The partitions are ranges between boundaries b1 < b2 < ... < bk, written
// with the two comparisons Graph supports on userPrincipalName without
// advanced queries, ge and le:
//
//	P0 = upn le b1,  Pi = upn ge bi and upn le b(i+1),  Pk = upn ge bk
//
// They cover every user whatever order Graph compares strings in: for any
// total order, a userPrincipalName u is le b1 (P0), or else ge b1; then le
// b2 (P1) or else ge b2; and so on to Pk. A boundary is the part before the
// @ of a sampled userPrincipalName, so it holds no @ and no user's
// userPrincipalName (which always holds one) equals it: the ranges meet at
// values nobody has. Should Graph's order ever tie a user with a boundary,
// or disagree with the order the boundaries were sorted in, that user comes
// back in two partitions, and a user seen twice fails the read. So does a
// failed page of any partition, a nextLink a partition already followed
// (ErrPagingLoop), a partition that does not end within maxPartitionPages,
// and a nextLink to anywhere but the client's Graph endpoint. The
// boundaries come from a stratified sample of userPrincipalNames (one
// $batch, see sampledBounds) or the users of an earlier read (the cache):
// they only balance the partitions. A partition's coverage rests on one
// fact of Graph: every user has a userPrincipalName (it is required).

// ReadScheme is how a full read fetches its pages.
type ReadScheme int

// The read schemes (measured in BenchmarkReadSchemes).
const (
	// SchemeBatched reads userPrincipalName partitions side by side, the
	// next pages of up to 20 partitions in one $batch, 2×Concurrency
	// batches in flight (see readBatches). The default.
	SchemeBatched ReadScheme = iota
	// SchemeParallel reads the same partitions with one request per page,
	// as many requests in flight as SchemeBatched has pages.
	SchemeParallel
	// SchemeSequential is the read before partitions: /users/delta pages
	// of 200 one after another with the manager, /users pages of 999
	// without.
	SchemeSequential
)

// SetReadScheme chooses how full reads fetch their pages (for
// measurements; SchemeBatched unless set).
func (c *Client) SetReadScheme(s ReadScheme) { c.scheme = s }

const (
	// expandPageSize is the most users Graph puts in a page with
	// $expand=manager, whatever $top says.
	expandPageSize = 100
	// maxPartitionPages is the most pages one partition may take before
	// the read is refused as endless.
	maxPartitionPages = 100_000
	// partitionsPerSlot is how many partitions a read makes per page it
	// keeps in flight: more partitions than slots keep every slot busy
	// while the biggest partitions finish.
	partitionsPerSlot = 2
)

// readBatches is how many $batch requests a full read keeps in flight:
// twice the client's Concurrency (which is sized for Graph's write limit),
// at most 16. Reads cost resource units only: 8 batches of 20 pages of 100
// users with $expand take 320 units a round trip, about Graph's 800 a
// second at 400 ms a round trip, and Graph's bucket starts with 8,000; past
// it, 429s slow the pacer down.
func (c *Client) readBatches() int { return min(2*c.concurrency, 16) }

// partitionCount is how many partitions a read of about n users in pages
// of pageSize makes with inflight pages in flight: at least two pages per
// partition (a partition's last page is usually part full), at most
// partitionsPerSlot per slot, at least one.
func partitionCount(n, pageSize, inflight int) int {
	pages := (n + pageSize - 1) / pageSize
	return max(1, min(partitionsPerSlot*inflight, pages/2))
}

// PartitionBounds picks the boundaries that split upns (any order, any
// case) into up to parts ranges of about equal size: the lower-cased part
// before the @ of every (len/parts)-th userPrincipalName, strictly
// increasing. No userPrincipalName equals a boundary.
func PartitionBounds(upns []string, parts int) []string {
	if parts <= 1 || len(upns) == 0 {
		return nil
	}
	keys := make([]string, 0, len(upns))
	for _, u := range upns {
		if u != "" {
			keys = append(keys, strings.ToLower(u))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	var out []string
	for i := 1; i < parts; i++ {
		k := keys[i*len(keys)/parts]
		at := strings.IndexByte(k, '@')
		if at <= 0 {
			continue // not a userPrincipalName: no boundary from it
		}
		b := k[:at]
		if len(out) > 0 && b <= out[len(out)-1] {
			continue
		}
		out = append(out, b)
	}
	return out
}

// PartitionFilters are the $filter expressions of the partitions the
// boundaries make (see the package comment above): len(bounds)+1 of them,
// a single "" (no filter) without boundaries.
func PartitionFilters(bounds []string) []string {
	if len(bounds) == 0 {
		return []string{""}
	}
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	out := make([]string, 0, len(bounds)+1)
	out = append(out, "userPrincipalName le "+q(bounds[0]))
	for i := 1; i < len(bounds); i++ {
		out = append(out, "userPrincipalName ge "+q(bounds[i-1])+" and userPrincipalName le "+q(bounds[i]))
	}
	return append(out, "userPrincipalName ge "+q(bounds[len(bounds)-1]))
}

// sampleUPNs reads one page of up to 999 userPrincipalNames, with Graph's
// estimate of the number of users ($count, an advanced query: only the
// partitions' sizes depend on it). total is -1 when Graph gave none.
func (c *Client) sampleUPNs(ctx context.Context, perm string) (upns []string, total int, err error) {
	top := int32(PageSize)
	count := true
	hdr := abs.NewRequestHeaders()
	hdr.Add("ConsistencyLevel", "eventual")
	ri, err := c.gs.Users().ToGetRequestInformation(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		Headers:         hdr,
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: []string{"userPrincipalName"}, Top: &top, Count: &count},
	})
	if err != nil {
		return nil, 0, fmt.Errorf("sample users: %w", err)
	}
	var pg struct {
		Count *int `json:"@odata.count"`
		Value []struct {
			UPN string `json:"userPrincipalName"`
		} `json:"value"`
		NextLink string `json:"@odata.nextLink"`
	}
	if err := c.getJSON(ctx, ri, &pg); err != nil {
		return nil, 0, withPermission(wrap("list users (sample)", err), perm)
	}
	upns = make([]string, len(pg.Value))
	for i, v := range pg.Value {
		upns[i] = v.UPN
	}
	switch {
	case pg.Count != nil:
		total = *pg.Count
	case pg.NextLink == "":
		total = len(upns)
	default:
		total = -1
	}
	return upns, total, nil
}

// readPartitioned reads every user as ListUsers does, through partitions
// read side by side (see the comment at the top of this file). sample, if
// not nil, are userPrincipalNames to draw the boundaries from (the users
// of an earlier read); else one page of them is read first.
//
// gate, if not nil, is waited for before the first page is asked for (the
// sample may be read meanwhile): a tracked read takes its deltaLink first.
func (c *Client) readPartitioned(ctx context.Context, attrs []string, withManager bool, sample []string, gate <-chan struct{}, progress func(int)) ([]identity.User, error) {
	pageSize := PageSize
	if withManager {
		pageSize = expandPageSize
	}
	inflight := c.readBatches() * BatchSize
	bounds, n, err := c.partitionBounds(ctx, attrs, sample, pageSize, inflight)
	if err != nil {
		return nil, err
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, fmt.Errorf("list users: %w", ctx.Err())
		}
	}
	filters := PartitionFilters(bounds)
	q := "$select=" + queryEscape(strings.Join(selectFor(attrs), ",")) + "&$top=" + strconv.Itoa(PageSize)
	if withManager {
		q += "&$expand=" + queryEscape("manager($select=id)")
	}
	r := &partReader{c: c, attrs: attrs, layout: identity.NewLayout(attrs), perm: readPermission(attrs), progress: progress,
		parts: make([]partState, len(filters)), seen: make(map[string]int32, n+n/8)}
	r.cond = sync.NewCond(&r.mu)
	for i, f := range filters {
		u := "/users?" + q
		if f != "" {
			u += "&$filter=" + queryEscape(f)
		}
		r.parts[i].followed = linkGuard{}
		r.ready = append(r.ready, pageReq{part: i, url: u})
	}
	per, workers := BatchSize, c.readBatches()
	if c.scheme == SchemeParallel {
		per, workers = 1, inflight
	}
	r.run(ctx, workers, per)
	if r.err != nil {
		return nil, r.err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return r.collect(filters)
}

// partitionBounds returns the boundaries of the partitions, drawn from
// sample (userPrincipalNames of an earlier read) or else from a
// stratified sample of the tenant, or one page of it, and how many users
// to expect (capped at 4M: it sizes a map).
func (c *Client) partitionBounds(ctx context.Context, attrs, sample []string, pageSize, inflight int) ([]string, int, error) {
	if sample != nil {
		return PartitionBounds(sample, partitionCount(len(sample), pageSize, inflight)), min(len(sample), 1<<22), nil
	}
	bounds, n, err := c.sampledBounds(ctx, pageSize, inflight)
	if err == nil {
		return bounds, min(n, 1<<22), nil
	}
	c.log.Debug("the stratified sample failed; sampling one page", "error", err)
	upns, n, err := c.sampleUPNs(ctx, readPermission(attrs))
	if err != nil {
		return nil, 0, err
	}
	if n < 0 {
		n = 50 * PageSize // Graph gave no count: assume a large tenant
	}
	return PartitionBounds(upns, partitionCount(n, pageSize, inflight)), min(n, 1<<22), nil
}

// run reads the partitions with workers goroutines, each taking up to per
// pages at a time (one $batch, or one request in SchemeParallel), until
// every partition ends, one fails or ctx ends.
func (r *partReader) run(ctx context.Context, workers, per int) {
	stop := context.AfterFunc(ctx, func() {
		r.mu.Lock()
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	defer stop()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := interner{} // each worker shares the values it decodes
			for {
				reqs := r.take(ctx, per)
				if reqs == nil {
					return
				}
				if r.c.scheme == SchemeParallel {
					r.fetchOne(ctx, reqs[0])
				} else {
					r.fetchBatch(ctx, reqs, in)
				}
				r.finish()
			}
		}()
	}
	wg.Wait()
}

// collect returns the users of every partition, in partition order,
// failing if any partition did not end (its filter named for the error).
func (r *partReader) collect(filters []string) ([]identity.User, error) {
	total, longest := 0, 0
	for i := range r.parts {
		if !r.parts[i].done {
			return nil, fmt.Errorf("list users: partition %d (%s) did not end; the read may be incomplete", i+1, filters[i])
		}
		total += r.parts[i].count
		longest = max(longest, r.parts[i].pages)
	}
	out := make([]identity.User, 0, total)
	for i := range r.parts {
		for _, pg := range r.parts[i].users {
			out = append(out, pg...)
		}
		r.parts[i].users = nil
	}
	r.c.log.Debug("users read in partitions", "users", len(out), "partitions", len(filters), "pages", r.pages, "longest_partition_pages", longest, "batches", r.batches)
	return out, nil
}

// queryEscape escapes a query option's value, spaces as %20.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// pageReq is the next page of a partition: a URL below /v1.0.
type pageReq struct {
	part    int
	url     string
	attempt int // transient failures and throttling so far
	at      time.Time
}

// partState is one partition's progress.
type partState struct {
	pages    int
	followed linkGuard
	// users are the partition's pages of users, in order (kept apart:
	// appending them would copy them again at every doubling).
	users [][]identity.User
	count int
	done  bool
}

// partReader schedules the pages of a partitioned read.
type partReader struct {
	c        *Client
	attrs    []string
	layout   *identity.Layout // of attrs, shared by the users read
	perm     string
	progress func(int)

	mu       sync.Mutex
	cond     *sync.Cond
	ready    []pageReq
	delayed  []pageReq
	inFlight int
	parts    []partState
	seen     map[string]int32 // user id -> partition
	count    int
	pages    int
	batches  int
	err      error
}

// take returns up to n pages to fetch, waiting for one to be due; nil when
// the read is over (finished, failed or cancelled).
func (r *partReader) take(ctx context.Context, n int) []pageReq {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if r.err != nil || ctx.Err() != nil {
			return nil
		}
		now := r.c.clock.Now()
		kept := r.delayed[:0]
		for _, d := range r.delayed {
			if !d.at.After(now) {
				r.ready = append(r.ready, d)
			} else {
				kept = append(kept, d)
			}
		}
		r.delayed = kept
		if len(r.ready) > 0 {
			k := min(n, len(r.ready))
			out := slices.Clone(r.ready[:k])
			r.ready = r.ready[k:]
			r.inFlight++
			return out
		}
		if len(r.delayed) == 0 && r.inFlight == 0 {
			return nil
		}
		if len(r.delayed) > 0 {
			wait := time.Second
			for _, d := range r.delayed {
				wait = min(wait, d.at.Sub(now))
			}
			r.mu.Unlock()
			_ = r.c.clock.Sleep(ctx, wait)
			r.mu.Lock()
			continue
		}
		r.cond.Wait()
	}
}

// finish marks a fetch done.
func (r *partReader) finish() {
	r.mu.Lock()
	r.inFlight--
	r.cond.Broadcast()
	r.mu.Unlock()
}

// fail records the read's first error; the others stop.
func (r *partReader) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.cond.Broadcast()
	r.mu.Unlock()
}

// where names a page in errors.
func (r *partReader) where(p pageReq) string {
	return fmt.Sprintf("list users (partition %d, page %d)", p.part+1, r.parts[p.part].pages+1)
}

// fetchOne GETs one page (SchemeParallel); the retry handler waits out
// throttling and transient failures.
func (r *partReader) fetchOne(ctx context.Context, p pageReq) {
	ri := abs.NewRequestInformation()
	ri.Method = abs.GET
	ri.Headers.TryAdd("Accept", "application/json")
	u, err := url.Parse(r.c.graphURL + "/v1.0" + p.url)
	if err != nil {
		r.fail(fmt.Errorf("%s: %w", r.where(p), err))
		return
	}
	ri.SetUri(*u)
	var pg userPage
	if err := r.c.getJSON(ctx, ri, &pg); err != nil {
		r.fail(withPermission(wrap(r.where(p), err), r.perm))
		return
	}
	r.page(p, &pg)
}

// batchReq is a GET in a $batch: a URL below /v1.0 and its headers.
type batchReq struct {
	url    string
	header map[string]string
}

// postBatch sends GETs as one POST /$batch, after waiting for the pacer,
// and hands the response body to decode, which must not keep it: the
// buffer is reused. A batch Graph refuses as a whole (after the retry
// handler's retries) is a *GraphError.
func (c *Client) postBatch(ctx context.Context, reqs []batchReq, decode func([]byte) error) error {
	cost := pacer.Cost{Items: len(reqs)}
	tk, err := c.pacer.Acquire(ctx, cost)
	if err != nil {
		return err
	}
	// The items' outcomes reach the pacer from the caller (reads: no write
	// budget to charge); the ticket of the attempt answered is settled
	// here unless the retry handler settled it.
	bt := &batchTicket{t: tk}
	defer func() {
		if !bt.settled {
			c.pacer.Done(bt.t, pacer.Outcome{})
		}
	}()
	ri := abs.NewRequestInformation()
	ri.Method = abs.POST
	u, err := url.Parse(c.graphURL + "/v1.0/$batch")
	if err != nil {
		return err
	}
	ri.SetUri(*u)
	ri.Headers.TryAdd("Accept", "application/json")
	ri.SetStreamContentAndContentType(batchBody(reqs), "application/json")
	var decodeErr error
	h := abs.NewRequestHandlerOption()
	h.SetResponseHandler(func(response any, _ abs.ErrorMappings) (any, error) {
		return nil, readBatch(response, func(b []byte) { decodeErr = decode(b) })
	})
	// A few kB of GETs: gzip would cost a compressor (~1 MB) a batch.
	ri.AddRequestOptions([]abs.RequestOption{h, khttp.NewCompressionOptionsReference(false)})
	if _, err := c.adapter.SendPrimitive(withBatchCost(ctx, cost, bt), ri, "[]byte", nil); err != nil {
		return err
	}
	return decodeErr
}

// batchBody is the JSON body of a $batch of the GETs reqs, ids their
// indexes.
func batchBody(reqs []batchReq) []byte {
	var body bytes.Buffer
	body.WriteString(`{"requests":[`)
	for i, r := range reqs {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"id":"%d","method":"GET","url":`, i)
		u, _ := json.Marshal(r.url)
		body.Write(u)
		if len(r.header) > 0 {
			h, _ := json.Marshal(r.header)
			body.WriteString(`,"headers":`)
			body.Write(h)
		}
		body.WriteByte('}')
	}
	body.WriteString(`]}`)
	return body.Bytes()
}

// readBatch reads a $batch response into a reused buffer and hands it to
// use at once, rather than reading it whole into a new buffer the size of
// the page; a status of 300 or more is a GraphError.
func readBatch(response any, use func([]byte)) error {
	resp, ok := response.(*http.Response)
	if !ok || resp == nil {
		return errors.New("no response from Graph")
	}
	defer resp.Body.Close()
	buf := bodyPool.Get().(*bytes.Buffer)
	defer bodyPool.Put(buf)
	buf.Reset()
	if resp.ContentLength > 0 && resp.ContentLength < 256<<20 {
		buf.Grow(int(resp.ContentLength))
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, 1<<30)); err != nil {
		return fmt.Errorf("read Graph's answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		ge := &GraphError{Op: "graph $batch", Status: resp.StatusCode}
		if e := errorOf(buf.Bytes()); e != nil {
			ge.Code, ge.Message, ge.DetailCode = e.Code, e.Message, e.Detail
		}
		if strings.TrimSpace(ge.Message) == "" {
			ge.Message = noMessage(resp.StatusCode)
		}
		return ge
	}
	use(buf.Bytes())
	return nil
}

// bodyPool holds the buffers $batch responses are read into.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// sampleCuts split userPrincipalNames into the strata of the first sample:
// by first letter, grouped so that the strata of a workforce's names are
// of comparable size. (Any cuts cover every user; see PartitionFilters.)
var sampleCuts = []string{"b", "c", "d", "f", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "w"}

// sampledBounds draws the partitions' boundaries from a stratified
// sample, in one round trip: a $batch of one request per stratum of
// sampleCuts, each for up to 999 userPrincipalNames of its stratum and its
// size ($count, an advanced query: it only balances the partitions). Each
// stratum gets partitions in proportion to its size, cut at the quantiles
// of its sample.
//
// It returns the boundaries and the number of users Graph counted.
func (c *Client) sampledBounds(ctx context.Context, pageSize, inflight int) ([]string, int, error) {
	strata := PartitionFilters(sampleCuts)
	reqs := make([]batchReq, len(strata))
	for i, f := range strata {
		reqs[i] = batchReq{url: "/users?$select=userPrincipalName&$top=999&$count=true&$filter=" + queryEscape(f),
			header: map[string]string{"ConsistencyLevel": "eventual"}}
	}
	var items []batchItem
	if err := c.postBatch(ctx, reqs, func(b []byte) (err error) {
		items, err = decodeBatch(b, nil)
		return err
	}); err != nil {
		return nil, 0, err
	}
	if len(items) != len(strata) {
		return nil, 0, fmt.Errorf("sample: %d answers to %d requests", len(items), len(strata))
	}
	counts := make([]int, len(strata))
	samples := make([][]string, len(strata))
	total := 0
	for _, it := range items {
		k, err := strconv.Atoi(it.ID)
		if err != nil || k < 0 || k >= len(strata) || it.Status != http.StatusOK {
			return nil, 0, fmt.Errorf("sample: item %q answered %d", it.ID, it.Status)
		}
		for _, u := range it.Page.Value {
			samples[k] = append(samples[k], deref(u.UserPrincipalName))
		}
		switch {
		case it.Page.Count != nil:
			counts[k] = *it.Page.Count
		case it.Page.NextLink == "":
			counts[k] = len(samples[k])
		default:
			return nil, 0, errors.New("sample: Graph gave no count")
		}
		total += counts[k]
	}
	parts := partitionCount(total, pageSize, inflight)
	if parts < 2*len(strata) {
		// Too few partitions to give each stratum its own: cut the
		// whole sample (complete, for a tenant this small).
		var all []string
		for _, s := range samples {
			all = append(all, s...)
		}
		return PartitionBounds(all, parts), total, nil
	}
	cuts := slices.Clone(sampleCuts)
	for k := range strata {
		if p := int(math.Round(float64(parts) * float64(counts[k]) / float64(max(total, 1)))); p > 1 {
			cuts = append(cuts, PartitionBounds(samples[k], p)...)
		}
	}
	slices.Sort(cuts)
	return slices.Compact(cuts), total, nil
}

// fetchBatch fetches the pages in one $batch. A throttled (429) or
// transiently failed item is fetched again after its Retry-After (or a
// backoff); any other failure fails the read.
func (r *partReader) fetchBatch(ctx context.Context, reqs []pageReq, in interner) {
	c := r.c
	breqs := make([]batchReq, len(reqs))
	for i, p := range reqs {
		breqs[i] = batchReq{url: p.url}
	}
	var items []batchItem
	var decodeErr error
	err := c.postBatch(ctx, breqs, func(b []byte) error {
		items, decodeErr = decodeBatch(b, in)
		return decodeErr
	})
	switch {
	case decodeErr != nil:
		r.fail(fmt.Errorf("%s: unreadable $batch response from Graph: %w", r.where(reqs[0]), decodeErr))
		return
	case err != nil:
		r.fail(withPermission(wrap(r.where(reqs[0])+" in $batch", err), r.perm))
		return
	}
	r.mu.Lock()
	r.batches++
	r.mu.Unlock()
	answered := make([]bool, len(reqs))
	ok := 0
	var throttled time.Duration
	for i := range items {
		it := &items[i]
		k, err := strconv.Atoi(it.ID)
		if err != nil || k < 0 || k >= len(reqs) || answered[k] {
			continue
		}
		answered[k] = true
		p := reqs[k]
		switch {
		case it.Status == http.StatusOK:
			ok++
			r.page(p, &it.Page)
		case pacer.Retryable(it.Status):
			p.attempt++
			limit := maxTransientAttempts
			if it.Status == http.StatusTooManyRequests {
				limit = maxThrottledAttempts
			}
			if p.attempt >= limit {
				r.fail(r.itemError(p, it.Status, it.Error))
				return
			}
			hdr := http.Header{}
			for k, v := range it.Headers {
				hdr.Set(k, v)
			}
			wait := c.retry.retryDelay(hdr, p.attempt)
			if it.Status == http.StatusTooManyRequests {
				throttled = max(throttled, wait)
			}
			c.log.Debug("graph throttled or failed a page of a partitioned read; retrying", "partition", p.part+1, "status", it.Status, "wait", wait)
			p.at = c.clock.Now().Add(wait)
			r.mu.Lock()
			r.delayed = append(r.delayed, p)
			r.mu.Unlock()
		default:
			r.fail(r.itemError(p, it.Status, it.Error))
			return
		}
	}
	c.pacer.Succeeded(ok)
	if throttled > 0 {
		c.pacer.Throttled(throttled)
	}
	for k, done := range answered {
		if !done {
			r.fail(&GraphError{Op: r.where(reqs[k]), Message: "Graph's $batch response did not answer this request"})
			return
		}
	}
}

// itemError is a failed page's *GraphError.
func (r *partReader) itemError(p pageReq, status int, e *pageError) error {
	ge := &GraphError{Op: r.where(p), Status: status, Permission: r.perm}
	if e != nil {
		ge.Code, ge.Message, ge.DetailCode = e.Code, e.Message, e.Detail
	}
	if strings.TrimSpace(ge.Message) == "" {
		ge.Message = noMessage(status)
	}
	return ge
}

// page takes in a partition's page: its users (a user seen before fails
// the read) and its nextLink, which queues the partition's next page.
func (r *partReader) page(p pageReq, pg *userPage) {
	out := make([]identity.User, len(pg.Value))
	for i := range pg.Value {
		out[i] = pg.Value[i].toUser(r.attrs, r.layout)
	}
	var next string
	if pg.NextLink != "" {
		var err error
		if next, err = r.c.relative(pg.NextLink); err != nil {
			r.fail(fmt.Errorf("%s: %w", r.where(p), err))
			return
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return
	}
	ps := &r.parts[p.part]
	for i := range out {
		if at, dup := r.seen[out[i].ID]; dup {
			r.err = fmt.Errorf("%s: user %s came back in partitions %d and %d: the partitions overlap, so the read is refused",
				r.where(p), out[i].ID, at+1, p.part+1)
			r.cond.Broadcast()
			return
		}
		r.seen[out[i].ID] = int32(p.part)
	}
	ps.users = append(ps.users, out)
	ps.count += len(out)
	ps.pages++
	r.pages++
	r.count += len(out)
	if r.progress != nil {
		r.progress(r.count)
	}
	if next == "" {
		ps.done = true
		return
	}
	if err := ps.followed.follow(next, ps.pages); err != nil {
		r.err = fmt.Errorf("%s: %w", r.where(p), err)
		r.cond.Broadcast()
		return
	}
	if ps.pages >= maxPartitionPages {
		r.err = fmt.Errorf("%s: the partition did not end after %d pages; the read is refused", r.where(p), ps.pages)
		r.cond.Broadcast()
		return
	}
	r.ready = append(r.ready, pageReq{part: p.part, url: next})
}

// relative turns a nextLink into a URL below /v1.0 of the client's
// endpoint; a link elsewhere is refused (the token goes only to Graph).
func (c *Client) relative(link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("unreadable nextLink %q: %w", link, err)
	}
	base, err := url.Parse(c.graphURL)
	if err != nil {
		return "", fmt.Errorf("graph URL %q: %w", c.graphURL, err)
	}
	rest, ok := strings.CutPrefix(u.EscapedPath(), "/v1.0/")
	if !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) || !ok {
		return "", fmt.Errorf("a nextLink outside %s/v1.0 (%s) is refused", c.graphURL, link)
	}
	out := "/" + rest
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out, nil
}

// LatestDeltaLink asks Graph for a deltaLink that returns the changes made
// from now on to the users, with the properties attrs name (and the
// manager when withManager): GET /users/delta?$deltatoken=latest, which
// returns no users. A full read that takes it first, then reads the users,
// misses no change: those made while it reads come back in the next round.
func (c *Client) LatestDeltaLink(ctx context.Context, attrs []string, withManager bool) (string, error) {
	sel := selectFor(attrs)
	if withManager {
		sel = append(sel, "manager")
	}
	ri, err := c.gs.Users().Delta().ToGetRequestInformation(ctx, &users.DeltaRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.DeltaRequestBuilderGetQueryParameters{Select: sel}})
	if err != nil {
		return "", fmt.Errorf("delta link: %w", err)
	}
	u, err := ri.GetUri()
	if err != nil {
		return "", fmt.Errorf("delta link: %w", err)
	}
	u.RawQuery += "&$deltatoken=latest"
	ri.SetUri(*u)
	var pg userPage
	if err := c.getJSON(ctx, ri, &pg); err != nil {
		return "", withPermission(wrap("delta link", err), readPermission(attrs))
	}
	if pg.DeltaLink == "" {
		return "", errors.New("delta link: Graph answered $deltatoken=latest without a deltaLink")
	}
	return pg.DeltaLink, nil
}

// Change is one user a round of the delta query returned.
type Change struct {
	// User is the user with every property the round selected (Graph
	// leaves null ones out, so a property absent is empty) and, when
	// ManagerSet, its manager.
	User identity.User
	// Removed says the user was deleted (or left the round's scope);
	// Hard that it was deleted permanently.
	Removed, Hard bool
	// ManagerSet says the entry carried manager@delta: User.ManagerID is
	// the manager now ("" when it was removed). Without it the manager did
	// not change.
	ManagerSet bool
}

// Changes are the entries of a delta round, in the order Graph sent them,
// and the deltaLink of the next round.
type Changes struct {
	Users []Change
	Link  string
}

// ReadChanges follows a deltaLink (of LatestDeltaLink or an earlier
// ReadChanges, with the same attrs and withManager) to the end of its
// round and returns what changed. A link outside the client's endpoint is
// refused; Graph's 410 (syncStateNotFound) matches directory.ErrStateLost.
func (c *Client) ReadChanges(ctx context.Context, attrs []string, withManager bool, link string, progress func(int)) (*Changes, error) {
	l := identity.NewLayout(attrs) // shared by the users read
	if !deltaReturns(attrs) {
		return nil, &GraphError{Op: "read changes (delta)", Status: http.StatusNotImplemented, Code: "PropertyNotReturned",
			Message: "Graph's delta query does not return licenseAssignmentStates"}
	}
	out := &Changes{}
	followed := linkGuard{}
	for page := 1; ; page++ {
		if _, err := c.relative(link); err != nil {
			return nil, fmt.Errorf("read changes (delta page %d): %w", page, err)
		}
		ri, err := c.gs.Users().Delta().WithUrl(link).ToGetRequestInformation(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("read changes (delta page %d): %w", page, err)
		}
		var pg userPage
		if err := c.getJSON(ctx, ri, &pg); err != nil {
			return nil, withPermission(wrap(fmt.Sprintf("read changes (delta page %d)", page), err), readPermission(attrs))
		}
		for i := range pg.Value {
			u := &pg.Value[i]
			ch := Change{ManagerSet: withManager && u.ManagerDelta != nil}
			if u.Removed != nil {
				ch.User.ID, ch.Removed = u.ID, true
				ch.Hard = fmt.Sprint((*u.Removed)["reason"]) == "deleted"
			} else {
				ch.User = u.toUser(attrs, l)
			}
			if u.ID == "" {
				return nil, fmt.Errorf("read changes (delta page %d): Graph sent an entry without an id", page)
			}
			out.Users = append(out.Users, ch)
		}
		if progress != nil {
			progress(len(out.Users))
		}
		if pg.NextLink == "" {
			if pg.DeltaLink == "" {
				return nil, fmt.Errorf("read changes (delta page %d): Graph ended the round without a deltaLink; the read may be incomplete", page)
			}
			out.Link = pg.DeltaLink
			return out, nil
		}
		if err := followed.follow(pg.NextLink, page); err != nil {
			return nil, fmt.Errorf("read changes (delta page %d): %w", page, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read changes: %w", err)
		}
		link = pg.NextLink
	}
}

// interner keeps one copy of each repeated string.
type interner map[string]string

func (in interner) str(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
}

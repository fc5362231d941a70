package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/guid"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/pacer"
)

// BatchSize is the most requests Graph takes in one POST /$batch.
const BatchSize = 20

// opSelect is what a read op selects: its attributes, and the licenses
// when it asks for them.
func opSelect(o directory.Op) []string {
	return withLicenses(directory.Query{Attrs: o.Select, Licenses: o.Licenses})
}

// describe names an op in errors (never with its password).
func describe(o directory.Op) string {
	switch o.Kind {
	case directory.OpCreate:
		return "create user " + o.Attrs.Get("userPrincipalName")
	case directory.OpUpdate:
		return "update user " + o.UserID
	case directory.OpSetManager:
		return "set manager of " + o.UserID
	case directory.OpRemoveManager:
		return "remove manager of " + o.UserID
	case directory.OpFind:
		return fmt.Sprintf("find user with %s %q", o.Attr, o.Value)
	case directory.OpRevokeSessions:
		return "revoke sign-in sessions of " + o.UserID
	case directory.OpDelete:
		return "delete user " + o.UserID
	case directory.OpRestore:
		return "restore user " + o.UserID
	case directory.OpAddMember:
		return "add user " + o.UserID + " to group " + o.GroupID
	case directory.OpRemoveMember:
		return "remove user " + o.UserID + " from group " + o.GroupID
	case directory.OpGet:
		return "read user " + o.UserID
	case directory.OpAssignLicense:
		d := "assign licenses to " + o.UserID
		if len(o.AddSkus) > 0 {
			d += " (add " + strings.Join(o.AddSkus, ", ") + ")"
		}
		if len(o.RemoveSkus) > 0 {
			d += " (remove " + strings.Join(o.RemoveSkus, ", ") + ")"
		}
		return d
	}
	return "graph request"
}

// permission is the Microsoft Graph application permission o needs (see
// GraphError.Permission).
func permission(o directory.Op) string {
	switch o.Kind {
	case directory.OpCreate:
		if _, ok := o.Attrs.Lookup("employeeLeaveDateTime"); ok {
			return PermLifecycleWrite
		}
	case directory.OpUpdate:
		if _, ok := o.Set["employeeLeaveDateTime"]; ok {
			return PermLifecycleWrite
		}
	case directory.OpFind, directory.OpGet:
		return readPermission(o.Select)
	case directory.OpAddMember, directory.OpRemoveMember:
		return PermGroupsWrite
	case directory.OpAssignLicense:
		return PermLicenses
	}
	return PermUsers
}

// Do carries out ops through POST /$batch, BatchSize per request, with the
// client's Concurrency batches in flight, and calls done exactly once per
// op, from several goroutines, as outcomes arrive. Ops in one call must not
// depend on each other: Graph runs a batch's items in any order. Items
// Graph throttles (429) or fails transiently (502/503/504) are retried on
// their own after their Retry-After (or a jittered backoff), and the pacer
// slows every sender down; any other answer is final.
func (c *Client) Do(ctx context.Context, ops []directory.Op, opts directory.DoOptions, done func(i int, o directory.Outcome)) {
	stop := opts.Stop
	if stop == nil {
		stop = ctx
	}
	q := &opQueue{clock: c.clock, attempts: make([]int, len(ops)), lastErr: make([]error, len(ops))}
	q.cond = sync.NewCond(&q.mu)
	for i := range ops {
		q.ready = append(q.ready, i)
	}
	// Wake waiting workers when the run stops.
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-stop.Done():
		case <-ctx.Done():
		case <-finished:
			return
		}
		q.mu.Lock()
		q.stopped = true
		q.cond.Broadcast()
		q.mu.Unlock()
	}()
	var wg sync.WaitGroup
	for range c.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				idx := q.take(stop)
				if idx == nil {
					return
				}
				c.sendBatch(ctx, stop, ops, idx, q, done)
			}
		}()
	}
	wg.Wait()
	// Whatever is left was stopped: never sent, or waiting to be retried.
	q.mu.Lock()
	left := append(q.ready, q.delayedIndexes()...)
	q.ready, q.delayed = nil, nil
	q.mu.Unlock()
	for _, i := range left {
		if err := q.lastErr[i]; err != nil {
			// Sent before and answered 429/5xx: it may or may not have
			// happened, so it is a failure, not "not sent".
			done(i, directory.Outcome{Err: fmt.Errorf("%w (the run stopped before it was retried)", err)})
			continue
		}
		done(i, directory.Outcome{Err: fmt.Errorf("%s: %w", describe(ops[i]), directory.ErrNotSent)})
	}
}

// opQueue holds ops waiting to be sent: ready ones, and ones waiting out a
// Retry-After.
type opQueue struct {
	clock pacer.Clock

	mu       sync.Mutex
	cond     *sync.Cond
	ready    []int
	delayed  []delayedOp
	attempts []int
	lastErr  []error // the answer that made an op wait for a retry
	inFlight int
	stopped  bool
}

type delayedOp struct {
	idx int
	at  time.Time
}

// take returns the next batch to send, or nil when there is nothing left
// or the run stopped.
func (q *opQueue) take(stop context.Context) []int {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.stopped || stop.Err() != nil {
			return nil
		}
		q.promote()
		if len(q.ready) > 0 {
			n := min(BatchSize, len(q.ready))
			batch := append([]int(nil), q.ready[:n]...)
			q.ready = q.ready[n:]
			q.inFlight++
			return batch
		}
		if len(q.delayed) == 0 && q.inFlight == 0 {
			return nil // all done
		}
		if len(q.delayed) > 0 {
			// Sleep until the earliest retry is due, unlocked.
			wait := q.delayed[0].at.Sub(q.clock.Now())
			for _, d := range q.delayed[1:] {
				wait = min(wait, d.at.Sub(q.clock.Now()))
			}
			if wait > 0 {
				q.mu.Unlock()
				_ = q.clock.Sleep(stop, min(wait, time.Second))
				q.mu.Lock()
			}
			continue
		}
		q.cond.Wait() // a batch in flight may requeue ops
	}
}

// promote moves due retries to the front of the ready list; the caller
// holds q.mu.
func (q *opQueue) promote() {
	now := q.clock.Now()
	var due []int
	kept := q.delayed[:0]
	for _, d := range q.delayed {
		if !d.at.After(now) {
			due = append(due, d.idx)
		} else {
			kept = append(kept, d)
		}
	}
	q.delayed = kept
	if len(due) > 0 {
		q.ready = append(due, q.ready...)
	}
}

func (q *opQueue) delayedIndexes() []int {
	out := make([]int, 0, len(q.delayed))
	for _, d := range q.delayed {
		out = append(out, d.idx)
	}
	return out
}

// retry requeues op i after wait; the caller holds q.mu.
func (q *opQueue) retry(i int, wait time.Duration) {
	q.delayed = append(q.delayed, delayedOp{idx: i, at: q.clock.Now().Add(wait)})
}

// finishBatch marks a batch answered and wakes waiting workers.
func (q *opQueue) finishBatch() {
	q.mu.Lock()
	q.inFlight--
	q.cond.Broadcast()
	q.mu.Unlock()
}

// sendBatch sends ops[idx...] as one $batch and settles each item.
func (c *Client) sendBatch(ctx, stop context.Context, ops []directory.Op, idx []int, q *opQueue, done func(int, directory.Outcome)) {
	s := &batchSend{c: c, ops: ops, q: q, settle: done, byID: make(map[string]int, len(idx)), write: make(map[string]bool, len(idx))}
	b := s.build(ctx, idx)
	defer q.finishBatch()
	if len(s.byID) == 0 {
		return
	}
	cost := s.cost()
	// Wait for the pacer here, where a stop still means "not sent".
	tk, err := c.pacer.Acquire(stop, cost)
	if err != nil {
		for _, i := range s.byID {
			s.fail(i, directory.ErrNotSent)
		}
		return
	}
	bt := &batchTicket{t: tk}
	// paced hands the outcome of the attempt answered to the pacer, unless
	// the retry handler did.
	paced := func(o pacer.Outcome) {
		if !bt.settled {
			c.pacer.Done(bt.t, o)
			bt.settled = true
		}
	}
	resp, err := b.Send(withBatchCost(ctx, cost, bt), c.adapter)
	if err != nil {
		paced(pacer.Outcome{})
		s.sendFailed(err)
		return
	}
	paced(s.answers(resp))
}

// batchSend is one $batch on its way: the ops it carries, by their item
// ids, and where their outcomes go.
type batchSend struct {
	c      *Client
	ops    []directory.Op
	q      *opQueue
	settle func(int, directory.Outcome)
	byID   map[string]int  // item id -> op index
	write  map[string]bool // item id -> the op writes
}

// fail settles op i with err, naming the op.
func (s *batchSend) fail(i int, err error) {
	s.settle(i, directory.Outcome{Err: fmt.Errorf("%s: %w", describe(s.ops[i]), err)})
}

// build adds ops[idx...] to a new $batch as its items; an op whose request
// cannot be built fails at once.
func (s *batchSend) build(ctx context.Context, idx []int) msgraphcore.BatchRequest {
	b := msgraphcore.NewBatchRequest(s.c.adapter)
	for _, i := range idx {
		ri, err := s.c.requestInfo(ctx, s.ops[i])
		if err == nil {
			var item msgraphcore.BatchItem
			item, err = b.AddBatchRequestStep(*ri)
			if err == nil {
				// kiota turns %24 back into $ in query option names of
				// requests it sends, not in batch items: do it here.
				if u := item.GetUrl(); u != nil {
					fixed := strings.NewReplacer("?%24", "?$", "&%24", "&$").Replace(*u)
					item.SetUrl(&fixed)
				}
				id := deref(item.GetId())
				s.byID[id] = i
				s.write[id] = ri.Method != abs.GET
				continue
			}
		}
		s.fail(i, err)
	}
	return b
}

// cost is what the batch costs the pacer: its items and its writes.
func (s *batchSend) cost() pacer.Cost {
	cost := pacer.Cost{Items: len(s.byID)}
	for _, w := range s.write {
		if w {
			cost.Writes++
		}
	}
	return cost
}

// sendFailed settles every op of a $batch Graph did not answer as a
// whole.
func (s *batchSend) sendFailed(err error) {
	err = wrap("graph $batch", err)
	var ge *GraphError
	for _, i := range s.byID {
		opErr := err
		if errors.As(err, &ge) {
			// Each op's own copy, naming the permission it needs.
			ce := *ge
			ce.Permission = permission(s.ops[i])
			opErr = &ce
		}
		s.fail(i, opErr)
	}
}

// batchAnswer is Graph's answer to one item of a $batch.
type batchAnswer struct {
	i      int  // the op's index
	write  bool // the op writes
	status int
	hdr    http.Header
	body   msgraphcore.RequestBody
}

// answers settles each op by Graph's answer to its item, or requeues it
// for a retry, and fails the ops Graph left unanswered. It returns what
// the pacer learns from the batch.
func (s *batchSend) answers(resp msgraphcore.BatchResponse) pacer.Outcome {
	answered := make(map[string]bool, len(s.byID))
	var po pacer.Outcome
	for _, item := range resp.GetResponses() {
		id := deref(item.GetId())
		i, known := s.byID[id]
		if !known || answered[id] {
			continue
		}
		answered[id] = true
		ans := batchAnswer{i: i, write: s.write[id], hdr: http.Header{}, body: item.GetBody()}
		if st := item.GetStatus(); st != nil {
			ans.status = int(*st)
		}
		for k, v := range item.GetHeaders() {
			ans.hdr.Set(k, v)
		}
		s.answer(ans, &po)
	}
	for id, i := range s.byID {
		if !answered[id] {
			s.settle(i, directory.Outcome{Err: &GraphError{Op: describe(s.ops[i]), Message: "Graph's $batch response did not answer this request"}})
		}
	}
	return po
}

// answer settles one op by Graph's answer, or requeues it for a retry,
// adding what the pacer learns to po.
func (s *batchSend) answer(ans batchAnswer, po *pacer.Outcome) {
	i, status := ans.i, ans.status
	if ans.write && status != http.StatusTooManyRequests {
		po.Used = max(po.Used, limitUsed(ans.hdr))
	}
	switch {
	case status >= 200 && status < 300:
		po.Succeeded++
		s.settle(i, s.c.outcome(s.ops[i], ans.body))
	case alreadyDone(s.ops[i], status, ans.body):
		po.Succeeded++
		s.settle(i, directory.Outcome{})
	case status == http.StatusTooManyRequests || pacer.Retryable(status):
		s.retryOrFail(ans, po)
	default:
		s.settle(i, directory.Outcome{Err: itemError(s.ops[i], status, ans.body)})
	}
}

// retryOrFail requeues an op Graph throttled (429) or failed
// transiently (5xx) after its wait, or fails it once it has had its
// attempts; a 429 counts in po.
func (s *batchSend) retryOrFail(ans batchAnswer, po *pacer.Outcome) {
	i, status, q := ans.i, ans.status, s.q
	q.mu.Lock()
	q.attempts[i]++
	n := q.attempts[i]
	q.mu.Unlock()
	limit := maxTransientAttempts
	if status == http.StatusTooManyRequests {
		limit = maxThrottledAttempts
	}
	wait := s.c.retry.retryDelay(ans.hdr, n)
	if status == http.StatusTooManyRequests {
		switch {
		case writeLimited(ans.hdr, ans.write):
			po.WriteLimited++
		case ans.write:
			po.Throttled++
			po.ThrottledWrites++
		default:
			po.Throttled++
		}
		po.RetryAfter = max(po.RetryAfter, wait)
	}
	if n >= limit {
		s.settle(i, directory.Outcome{Err: itemError(s.ops[i], status, ans.body)})
		return
	}
	q.mu.Lock()
	if status != http.StatusTooManyRequests {
		// A 429 was not carried out; a 5xx may have been.
		q.lastErr[i] = itemError(s.ops[i], status, ans.body)
	}
	q.retry(i, wait)
	q.mu.Unlock()
}

// requestInfo builds an op's request with the SDK's request builders.
func (c *Client) requestInfo(ctx context.Context, o directory.Op) (*abs.RequestInformation, error) {
	if o.Kind < directory.OpCreate || o.Kind > directory.OpAssignLicense {
		return nil, fmt.Errorf("unknown operation %d", o.Kind)
	}
	switch o.Kind {
	case directory.OpCreate:
		u, err := newUserBody(o.Attrs, o.Password)
		if err != nil {
			return nil, err
		}
		return c.gs.Users().ToPostRequestInformation(ctx, u, nil)
	case directory.OpUpdate:
		u := models.NewUser()
		for name, v := range o.Set {
			if err := setAttr(u, name, v); err != nil {
				return nil, err
			}
		}
		return c.gs.Users().ByUserId(o.UserID).ToPatchRequestInformation(ctx, u, nil)
	case directory.OpSetManager:
		ref := models.NewReferenceUpdate()
		odataID := c.graphURL + "/v1.0/users/" + o.ManagerID
		ref.SetOdataId(&odataID)
		return c.gs.Users().ByUserId(o.UserID).Manager().Ref().ToPutRequestInformation(ctx, ref, nil)
	case directory.OpRemoveManager:
		return c.gs.Users().ByUserId(o.UserID).Manager().Ref().ToDeleteRequestInformation(ctx, nil)
	case directory.OpRevokeSessions:
		ri, err := c.gs.Users().ByUserId(o.UserID).RevokeSignInSessions().ToPostRequestInformation(ctx, nil)
		if err != nil {
			return nil, err
		}
		// Graph refuses a write inside $batch without a body and its
		// Content-Type, even for this action that takes none.
		withEmptyBody(ri)
		return ri, nil
	case directory.OpFind:
		filter := fmt.Sprintf("%s eq '%s'", o.Attr, strings.ReplaceAll(o.Value, "'", "''"))
		q := &users.UsersRequestBuilderGetQueryParameters{Select: selectFor(opSelect(o)), Filter: &filter}
		return c.gs.Users().ToGetRequestInformation(ctx, &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: q})
	}
	if o.UserID == "" {
		return nil, errors.New("no user id")
	}
	switch o.Kind {
	case directory.OpDelete:
		return c.gs.Users().ByUserId(o.UserID).ToDeleteRequestInformation(ctx, nil)
	case directory.OpRestore:
		ri, err := c.gs.Directory().DeletedItems().ByDirectoryObjectId(o.UserID).Restore().ToPostRequestInformation(ctx, nil)
		if err != nil {
			return nil, err
		}
		withEmptyBody(ri)
		return ri, nil
	case directory.OpGet:
		q := &users.UserItemRequestBuilderGetQueryParameters{Select: selectFor(opSelect(o))}
		if o.Expand {
			q.Expand = []string{"manager($select=id)"}
		}
		return c.gs.Users().ByUserId(o.UserID).ToGetRequestInformation(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{QueryParameters: q})
	case directory.OpAssignLicense:
		return c.assignLicenseRequest(ctx, o)
	}
	if o.GroupID == "" {
		return nil, errors.New("no group id")
	}
	switch o.Kind {
	case directory.OpAddMember:
		ref := models.NewReferenceCreate()
		odataID := c.graphURL + "/v1.0/directoryObjects/" + o.UserID
		ref.SetOdataId(&odataID)
		return c.gs.Groups().ByGroupId(o.GroupID).Members().Ref().ToPostRequestInformation(ctx, ref, nil)
	case directory.OpRemoveMember:
		return c.gs.Groups().ByGroupId(o.GroupID).Members().ByDirectoryObjectId(o.UserID).Ref().ToDeleteRequestInformation(ctx, nil)
	}
	return nil, fmt.Errorf("unknown operation %d", o.Kind)
}

// withEmptyBody gives a bodiless POST the {} body and Content-Type Graph
// insists on inside $batch ("does not contain Content-Type header or
// body").
func withEmptyBody(ri *abs.RequestInformation) {
	ri.Content = []byte("{}")
	ri.Headers.TryAdd("Content-Type", "application/json")
}

// assignLicenseRequest builds POST /users/{id}/assignLicense. The skuIds
// travel as the SDK's additional data: they are checked to be GUIDs here,
// which spares the typed UUID fields.
func (c *Client) assignLicenseRequest(ctx context.Context, o directory.Op) (*abs.RequestInformation, error) {
	for _, id := range append(append([]string(nil), o.AddSkus...), o.RemoveSkus...) {
		if !guid.Valid(id) {
			return nil, fmt.Errorf("license skuId %q is not a GUID", id)
		}
	}
	adds := make([]models.AssignedLicenseable, len(o.AddSkus))
	for i, id := range o.AddSkus {
		l := models.NewAssignedLicense()
		l.SetAdditionalData(map[string]any{"skuId": strings.ToLower(id), "disabledPlans": []string{}})
		adds[i] = l
	}
	remove := make([]string, len(o.RemoveSkus))
	for i, id := range o.RemoveSkus {
		remove[i] = strings.ToLower(id)
	}
	body := users.NewItemAssignLicensePostRequestBody()
	body.SetAddLicenses(adds)
	body.SetAdditionalData(map[string]any{"removeLicenses": remove})
	return c.gs.Users().ByUserId(o.UserID).AssignLicense().ToPostRequestInformation(ctx, body, nil)
}

// alreadyDone reports a failed item whose goal holds all the same: adding
// a member Graph says is one already, removing one it says is not there
// (404).
func alreadyDone(o directory.Op, status int, body msgraphcore.RequestBody) bool {
	switch o.Kind {
	case directory.OpAddMember:
		if status != http.StatusBadRequest {
			return false
		}
		var ge *GraphError
		return errors.As(itemError(o, status, body), &ge) && strings.Contains(ge.Message, "already exist")
	case directory.OpRemoveMember:
		return status == http.StatusNotFound
	}
	return false
}

// outcome reads a successful item's body. Users (directory.OpFind, directory.OpGet) are
// decoded like list pages, so their canonical values are those ReadUsers
// reads.
func (c *Client) outcome(o directory.Op, body msgraphcore.RequestBody) directory.Outcome {
	switch o.Kind {
	case directory.OpCreate:
		id := rawString(body["id"])
		if id == "" {
			return directory.Outcome{Err: &GraphError{Op: describe(o), Message: "Graph answered the create without an object id"}}
		}
		return directory.Outcome{ID: id}
	case directory.OpRestore:
		return directory.Outcome{ID: o.UserID}
	case directory.OpFind:
		var pg userPage
		if err := reparse(body, &pg); err != nil {
			return directory.Outcome{Err: fmt.Errorf("%s: %w", describe(o), err)}
		}
		out := make([]identity.User, 0, len(pg.Value))
		l := identity.NewLayout(opSelect(o))
		for i := range pg.Value {
			out = append(out, pg.Value[i].toUser(opSelect(o), l))
		}
		return directory.Outcome{Users: out}
	case directory.OpGet:
		var u rawUser
		if err := reparse(body, &u); err != nil {
			return directory.Outcome{Err: fmt.Errorf("%s: %w", describe(o), err)}
		}
		if u.ID == "" {
			return directory.Outcome{Err: &GraphError{Op: describe(o), Message: "Graph answered without the user's id"}}
		}
		return directory.Outcome{Users: []identity.User{u.toUser(opSelect(o), nil)}}
	}
	return directory.Outcome{}
}

// reparse decodes a $batch item body, which the SDK hands over as a
// generic tree, into v through JSON.
func reparse(body msgraphcore.RequestBody, v any) error {
	raw, err := json.Marshal(body)
	if err == nil {
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		return fmt.Errorf("unreadable response from Graph: %w", err)
	}
	return nil
}

// itemError turns a failed item's error body into a *GraphError. It reads
// the generic tree defensively: an item may lack "error", or carry it as
// null, as a string, or without a message.
func itemError(o directory.Op, status int, body msgraphcore.RequestBody) error {
	ge := &GraphError{Op: describe(o), Status: status, Permission: permission(o)}
	if e, ok := body["error"].(map[string]any); ok {
		ge.Code = rawString(e["code"])
		ge.Message = rawString(e["message"])
		if ds, ok := e["details"].([]any); ok {
			for _, d := range ds {
				if dm, ok := d.(map[string]any); ok {
					if code := rawString(dm["code"]); code != "" {
						ge.DetailCode = code
						break
					}
				}
			}
		}
	}
	if strings.TrimSpace(ge.Message) == "" {
		ge.Message = noMessage(status)
	}
	return ge
}

// rawString reads a string from a $batch item body as kiota parses it
// (strings arrive as *string).
func rawString(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case *string:
		if s != nil {
			return *s
		}
	}
	return ""
}

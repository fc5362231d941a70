package ldapop

import (
	"context"
	"fmt"
	"sync"

	"github.com/hrsync/hrsync/internal/directory"
)

// Do runs run for each of ops, concurrency at a time (go-ldap multiplexes
// requests on one connection), and calls done once per op. Ops not
// started when opts.Stop (or ctx) ends get directory.ErrNotSent.
func Do(ctx context.Context, ops []directory.Op, opts directory.DoOptions, concurrency int, run func(directory.Op) directory.Outcome, done func(i int, o directory.Outcome)) {
	stop := opts.Stop
	if stop == nil {
		stop = ctx
	}
	stopped := func() bool { return stop.Err() != nil || ctx.Err() != nil }
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(max(concurrency, 1), len(ops)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if stopped() {
					done(i, directory.Outcome{Err: directory.ErrNotSent})
					continue
				}
				done(i, run(ops[i]))
			}
		}()
	}
	for i := range ops {
		if stopped() {
			done(i, directory.Outcome{Err: directory.ErrNotSent})
			continue
		}
		select {
		case jobs <- i:
		case <-stop.Done():
			done(i, directory.Outcome{Err: directory.ErrNotSent})
		case <-ctx.Done():
			done(i, directory.Outcome{Err: directory.ErrNotSent})
		}
	}
	close(jobs)
	wg.Wait()
}

// Describe names an op for errors: its kind and the ids involved, never a
// value it writes. created names a create's entry (its DN).
func Describe(op directory.Op, created func(directory.Op) string) string {
	switch op.Kind {
	case directory.OpCreate:
		return "create user " + created(op)
	case directory.OpUpdate:
		return "update user " + op.UserID
	case directory.OpSetManager:
		return "set the manager of user " + op.UserID
	case directory.OpRemoveManager:
		return "remove the manager of user " + op.UserID
	case directory.OpFind:
		return "find users by " + op.Attr
	case directory.OpGet:
		return "read user " + op.UserID
	case directory.OpDelete:
		return "delete user " + op.UserID
	case directory.OpRestore:
		return "restore user " + op.UserID
	case directory.OpAddMember:
		return fmt.Sprintf("add user %s to group %s", op.UserID, op.GroupID)
	case directory.OpRemoveMember:
		return fmt.Sprintf("remove user %s from group %s", op.UserID, op.GroupID)
	case directory.OpRevokeSessions:
		return "revoke the sessions of user " + op.UserID
	case directory.OpAssignLicense:
		return "assign licenses to user " + op.UserID
	}
	return fmt.Sprintf("operation %d", op.Kind)
}

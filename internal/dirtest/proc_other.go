//go:build !unix

package dirtest

import "errors"

// lockAddr always succeeds where there is no flock: private servers need Linux anyway.
func lockAddr(string) bool { return true }

// startWatched is not available where there is no Unix session to detach a watchdog into.
func startWatched(string, string, []string) error {
	return errors.New("private directory servers need Linux")
}

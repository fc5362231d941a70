//go:build !unix

package journal

import "os"

// lockFile does nothing where flock is not available: running two applies
// of one plan at once is then not prevented.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) {}

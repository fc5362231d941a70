//go:build unix

package safefile

import (
	"errors"
	"syscall"
)

// oNoFollow makes open fail on a symbolic link at the last component.
const oNoFollow = syscall.O_NOFOLLOW

// isLinkRefused reports an open that O_NOFOLLOW refused: ELOOP on Linux and
// most systems, EMLINK on FreeBSD and DragonFly.
func isLinkRefused(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK)
}

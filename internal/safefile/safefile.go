// Package safefile opens files hrsync writes without following a symbolic
// link at the path's last component. A link planted where a report,
// writeback file or journal is expected (a shared folder, a CI workspace)
// would otherwise make hrsync truncate or overwrite the file it points at.
package safefile

import (
	"errors"
	"os"
)

// ErrSymlink is the error (wrapped in an *os.PathError) for a path that is
// a symbolic link.
var ErrSymlink = errors.New("is a symbolic link")

// OpenFile is os.OpenFile refusing a symbolic link at path, dangling or
// not: the path is checked with os.Lstat first, and opened with O_NOFOLLOW
// where the system has it, so a link swapped in between the check and the
// open is refused too. Elsewhere the opened file is compared with what the
// path names after the open. Links in the folders above path are followed
// as usual. A refused link gives an error wrapping ErrSymlink.
func OpenFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, linkError(path)
	}
	f, err := os.OpenFile(path, flag|oNoFollow, perm)
	if err != nil {
		if isLinkRefused(err) {
			return nil, linkError(path)
		}
		return nil, err
	}
	if oNoFollow == 0 {
		held, err1 := f.Stat()
		now, err2 := os.Lstat(path)
		if err1 != nil || err2 != nil || now.Mode()&os.ModeSymlink != 0 || !os.SameFile(held, now) {
			f.Close()
			return nil, linkError(path)
		}
	}
	return f, nil
}

// IsSymlink reports whether path itself is a symbolic link (false when
// it does not exist or cannot be read).
func IsSymlink(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&os.ModeSymlink != 0
}

func linkError(path string) error {
	return &os.PathError{Op: "open", Path: path, Err: ErrSymlink}
}

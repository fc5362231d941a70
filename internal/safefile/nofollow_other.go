//go:build !unix

package safefile

// oNoFollow is 0 where open has no O_NOFOLLOW: OpenFile checks the opened
// file against the path instead.
const oNoFollow = 0

func isLinkRefused(error) bool { return false }

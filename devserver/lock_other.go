//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package devserver

import "os"

// lockFile only creates path: no cross-process lock on this platform (the
// in-process guard in Start still applies).
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}

//go:build unix

package sqlite

import (
	"os"
	"syscall"
)

// lockDir takes an exclusive advisory lock (flock) on a directory and
// returns its release. It waits while another process holds it. flock
// locks are separate from the fcntl locks SQLite takes on its files.
func lockDir(dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	for {
		err = syscall.Flock(fd, syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(fd, syscall.LOCK_UN)
		f.Close()
	}, nil
}

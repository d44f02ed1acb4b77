//go:build !unix

package sqlite

// lockDir is a no-op where flock is not available: concurrent first
// opens of one database are then not serialised.
func lockDir(string) (func(), error) { return func() {}, nil }

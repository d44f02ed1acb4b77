package signin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// MinPasswordLength is the shortest local password accepted, in characters.
const MinPasswordLength = 12

// maxPasswordBytes bounds what is hashed (argon2 reads all of it).
const maxPasswordBytes = 1024

// argon2id parameters (OWASP's recommendation: 19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// CheckPassword says what is wrong with a new password.
func CheckPassword(pw string) error {
	switch n := utf8.RuneCountInString(pw); {
	case n < MinPasswordLength:
		return fmt.Errorf("the password has %d characters; use at least %d", n, MinPasswordLength)
	case len(pw) > maxPasswordBytes:
		return fmt.Errorf("the password is longer than %d bytes", maxPasswordBytes)
	case !utf8.ValidString(pw):
		return errors.New("the password is not valid UTF-8")
	}
	return nil
}

// HashPassword returns the argon2id PHC string of a password.
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding.EncodeToString
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64(salt), b64(key))
}

// VerifyPassword reports whether pw matches the PHC string, in time that
// does not depend on where they differ.
func VerifyPassword(phc, pw string) bool {
	if len(pw) > maxPasswordBytes {
		return false
	}
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var mem, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil || mem == 0 || mem > 1<<16 || t == 0 || t > 8 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 || len(key) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, mem, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// GeneratePassword returns a random password of 20 characters (about 120
// bits), for a demo or a first admin.
func GeneratePassword() string { return randomString(15) }

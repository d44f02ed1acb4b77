package signin

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// sealedPrefix marks a TOTP secret stored encrypted (base32 secrets never
// contain a colon, so a secret stored in the clear before
// signin.local.totp_key existed is told apart).
const sealedPrefix = "v1:"

// errNoTOTPKey is why TOTP cannot be enabled without signin.local.totp_key.
var errNoTOTPKey = errors.New("signin.local.totp_key is not set: TOTP secrets are stored encrypted with it; set it (as ${file:PATH} or ${env:NAME}, at least 32 random characters) first")

// totpAEAD is the cipher of TOTP secrets, from the configured key.
func totpAEAD(key string) (cipher.AEAD, error) {
	if key == "" {
		return nil, errNoTOTPKey
	}
	sum := sha256.Sum256([]byte("tango totp secret v1\x00" + key))
	block, err := aes.NewCipher(sum[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealTOTP encrypts a person's TOTP secret for the database, bound to the
// person (a sealed secret copied to another account does not open).
func (m *Manager) sealTOTP(person, secret string) (string, error) {
	aead, err := totpAEAD(m.cfg.SignIn.Local.TOTPKey)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(secret), []byte(person))), nil
}

// openTOTP is the TOTP secret stored for person: decrypted, or as stored
// when it was stored in the clear (before totp_key).
func (m *Manager) openTOTP(person, stored string) (string, error) {
	if !strings.HasPrefix(stored, sealedPrefix) {
		return stored, nil
	}
	aead, err := totpAEAD(m.cfg.SignIn.Local.TOTPKey)
	if err != nil {
		return "", fmt.Errorf("TOTP secret of %s is encrypted but %w", person, err)
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(stored, sealedPrefix))
	if err != nil || len(raw) < aead.NonceSize() {
		return "", fmt.Errorf("TOTP secret of %s is damaged", person)
	}
	secret, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(person))
	if err != nil {
		return "", fmt.Errorf("TOTP secret of %s does not open with signin.local.totp_key (changed since it was enabled?)", person)
	}
	return string(secret), nil
}

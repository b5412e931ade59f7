// Package auth makes and checks the hub's secrets: admin tokens, inbound API
// keys, response-API tokens and signing secrets.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Secret prefixes, so a leaked secret says what it is.
const (
	PrefixAdminToken    = "sba_"
	PrefixAPIKey        = "sbk_"
	PrefixResponseToken = "sbr_"
	PrefixSigningSecret = "whsec_"
)

// NewSecret returns a new random secret with the prefix, and its hash.
func NewSecret(prefix string) (plain, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	plain = prefix + base64.RawURLEncoding.EncodeToString(b)
	return plain, Hash(plain)
}

// NewSigningSecret returns a Standard Webhooks secret: whsec_ and 32 random
// bytes in base64. It is stored as is, since signing needs it.
func NewSigningSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	return PrefixSigningSecret + base64.StdEncoding.EncodeToString(b)
}

// Hash is the stored form of a secret: hex SHA-256.
func Hash(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// Matches compares a presented secret with a stored hash in constant time.
func Matches(presented string, storedHash []byte) bool {
	if len(storedHash) == 0 || presented == "" {
		return false
	}
	sum := sha256.Sum256([]byte(presented))
	var h [2 * sha256.Size]byte // the hex form, without a string on the heap
	hex.Encode(h[:], sum[:])
	return subtle.ConstantTimeCompare(h[:], storedHash) == 1
}

// HasPrefix reports whether s looks like a secret of this kind.
func HasPrefix(s, prefix string) bool { return strings.HasPrefix(s, prefix) }

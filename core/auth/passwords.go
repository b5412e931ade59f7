package auth

import (
	"errors"

	"golang.org/x/crypto/bcrypt"
)

// Password rules: bcrypt reads at most 72 bytes, so a longer password
// would be checked on its first 72 bytes only; it is refused instead.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72
)

// ErrPasswordRules is returned for a password outside the rules.
var ErrPasswordRules = errors.New("a password has 8 to 72 bytes")

// HashPassword returns the bcrypt hash of a password.
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLen || len(password) > MaxPasswordLen {
		return "", ErrPasswordRules
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// dummyHash is compared against when no user matches, so a login takes as
// long whether or not the email exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such user, no such password"), bcrypt.DefaultCost)

// CheckPassword reports whether password matches hash. With an empty hash
// (no such user) it still spends the time of one comparison.
func CheckPassword(hash, password string) bool {
	if hash == "" || len(password) > MaxPasswordLen {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password[:min(len(password), MaxPasswordLen)]))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

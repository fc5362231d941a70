package ldapdir

import (
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // {SSHA} is what OpenLDAP and 389 DS take by default; the salt defeats tables
	"encoding/base64"
	"fmt"
)

// ssha is password's salted SHA-1 hash as userPassword takes it:
// "{SSHA}" + base64(SHA1(password + salt) + salt), with 8 random bytes of
// salt, as slappasswd makes it.
func ssha(password string) (string, error) {
	salt := make([]byte, 8)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt for the password hash: %w", err)
	}
	h := sha1.New()
	h.Write([]byte(password))
	h.Write(salt)
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h.Sum(nil), salt...)), nil
}

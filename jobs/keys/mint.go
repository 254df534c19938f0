package keys

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
)

// SecretPrefix starts every secret this package mints.
const SecretPrefix = "rq_"

// prefixLen is how many characters of a secret a key record keeps, to tell
// keys apart in listings.
const prefixLen = 10

// newSecret makes a key's secret: "rq_" and 32 random bytes, URL-safe
// base64.
func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("keys: generate key: %w", err)
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// hashOf is what a key record keeps of its secret.
func hashOf(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// record is a new key's record for secret.
func record(secret, tenant, role string) ragqueue.Key {
	return ragqueue.Key{
		ID: uuid.NewString(), Tenant: tenant, Role: role, Hash: hashOf(secret),
		Prefix: secret[:min(len(secret), prefixLen)], CreatedAt: time.Now().UTC(),
	}
}

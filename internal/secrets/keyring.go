// Package secrets encrypts credentials and workflow payloads with AES-256-GCM so
// nothing sensitive is stored in clear text, and keys can rotate without
// re-encrypting old data at once.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// formatV1 is the first byte of every ciphertext; it lets the format change later.
const formatV1 byte = 1

const keyIDLen = 4

// ErrUnknownKey means a ciphertext was sealed with a key that is no longer configured.
var ErrUnknownKey = errors.New("secrets: ciphertext was encrypted with a key that is not configured")

// ErrMalformed means the bytes are not a ciphertext this package produced.
var ErrMalformed = errors.New("secrets: malformed ciphertext")

// Keyring holds the primary key that encrypts and every older key that may still
// be needed to decrypt. It is safe for concurrent use.
type Keyring struct {
	primary [keyIDLen]byte
	aeads   map[[keyIDLen]byte]cipher.AEAD
}

// ParseKeyring reads SECRETS_KEY: one or more base64 (std or URL) 32-byte keys
// separated by commas. The first key encrypts; all of them decrypt, which is how
// keys rotate: prepend the new key and keep the old ones until data is re-sealed.
func ParseKeyring(spec string) (*Keyring, error) {
	parts := strings.Split(spec, ",")
	k := &Keyring{aeads: make(map[[keyIDLen]byte]cipher.AEAD, len(parts))}
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("key %d is empty", i+1)
		}
		raw, err := decodeKey(p)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		id, aead, err := newAEAD(raw)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		if i == 0 {
			k.primary = id
		}
		k.aeads[id] = aead
	}
	return k, nil
}

// GenerateKey returns a fresh random key in the form ParseKeyring accepts; used by
// `make dev` and tests, never as a silent default in production.
func GenerateKey() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("secrets: crypto/rand failed: %v", err))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("must decode to 32 bytes for AES-256, got %d", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("is not valid base64")
}

func newAEAD(key []byte) ([keyIDLen]byte, cipher.AEAD, error) {
	var id [keyIDLen]byte
	sum := sha256.Sum256(append([]byte("acronis-autotask key id\x00"), key...))
	copy(id[:], sum[:keyIDLen])
	block, err := aes.NewCipher(key)
	if err != nil {
		return id, nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return id, nil, fmt.Errorf("gcm: %w", err)
	}
	return id, aead, nil
}

// PrimaryKeyID names the key that new ciphertexts are sealed with (hex, not secret).
func (k *Keyring) PrimaryKeyID() string { return hex.EncodeToString(k.primary[:]) }

// Encrypt seals plaintext with the primary key. associatedData binds the
// ciphertext to its context (for example a table and row) so it cannot be moved.
// Layout: format byte | key id (4) | nonce (12) | sealed data.
func (k *Keyring) Encrypt(plaintext, associatedData []byte) ([]byte, error) {
	aead := k.aeads[k.primary]
	out := make([]byte, 1+keyIDLen+aead.NonceSize(), 1+keyIDLen+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = formatV1
	copy(out[1:], k.primary[:])
	nonce := out[1+keyIDLen:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secrets: nonce: %w", err)
	}
	return aead.Seal(out, nonce, plaintext, associatedData), nil
}

// Decrypt opens a ciphertext made by Encrypt with any configured key.
func (k *Keyring) Decrypt(ciphertext, associatedData []byte) ([]byte, error) {
	id, err := KeyIDOf(ciphertext)
	if err != nil {
		return nil, err
	}
	var kid [keyIDLen]byte
	copy(kid[:], ciphertext[1:1+keyIDLen])
	aead, ok := k.aeads[kid]
	if !ok {
		return nil, fmt.Errorf("%w (key id %s)", ErrUnknownKey, id)
	}
	ns := aead.NonceSize()
	if len(ciphertext) < 1+keyIDLen+ns+aead.Overhead() {
		return nil, ErrMalformed
	}
	nonce := ciphertext[1+keyIDLen : 1+keyIDLen+ns]
	pt, err := aead.Open(nil, nonce, ciphertext[1+keyIDLen+ns:], associatedData)
	if err != nil {
		return nil, fmt.Errorf("secrets: decrypt with key %s: %w", id, err)
	}
	return pt, nil
}

// KeyIDOf reports which key sealed a ciphertext, so operators can find data
// still sealed with a key they want to retire.
func KeyIDOf(ciphertext []byte) (string, error) {
	if len(ciphertext) < 1+keyIDLen || ciphertext[0] != formatV1 {
		return "", ErrMalformed
	}
	return hex.EncodeToString(ciphertext[1 : 1+keyIDLen]), nil
}

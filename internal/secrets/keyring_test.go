package secrets

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestKeyring_RoundTripAndBindsAssociatedData(t *testing.T) {
	k, err := ParseKeyring(GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	ct, err := k.Encrypt([]byte("s3cret"), []byte("credentials/autotask"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("s3cret")) {
		t.Fatalf("ciphertext contains the plaintext")
	}
	pt, err := k.Decrypt(ct, []byte("credentials/autotask"))
	if err != nil || string(pt) != "s3cret" {
		t.Fatalf("Decrypt = %q, %v; want s3cret, nil", pt, err)
	}
	if _, err := k.Decrypt(ct, []byte("credentials/acronis")); err == nil {
		t.Fatalf("Decrypt with other associated data succeeded; want error")
	}
}

func TestKeyring_RotationDecryptsOldKeys(t *testing.T) {
	oldKey, newKey := GenerateKey(), GenerateKey()
	old, _ := ParseKeyring(oldKey)
	ct, _ := old.Encrypt([]byte("x"), nil)

	rotated, err := ParseKeyring(newKey + "," + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := KeyIDOf(ct); got != old.PrimaryKeyID() {
		t.Fatalf("KeyIDOf = %s, want %s", got, old.PrimaryKeyID())
	}
	if pt, err := rotated.Decrypt(ct, nil); err != nil || string(pt) != "x" {
		t.Fatalf("rotated Decrypt = %q, %v", pt, err)
	}
	ct2, _ := rotated.Encrypt([]byte("y"), nil)
	if got, _ := KeyIDOf(ct2); got == old.PrimaryKeyID() {
		t.Fatalf("new ciphertext sealed with old key %s", got)
	}
	onlyNew, _ := ParseKeyring(newKey)
	if _, err := onlyNew.Decrypt(ct, nil); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Decrypt with removed key: err = %v, want ErrUnknownKey", err)
	}
}

func TestParseKeyring_RejectsBadKeys(t *testing.T) {
	for _, spec := range []string{"", "not-base64!!", "c2hvcnQ=", GenerateKey() + ","} {
		if _, err := ParseKeyring(spec); err == nil {
			t.Errorf("ParseKeyring(%q) succeeded; want error", spec)
		}
	}
	_, err := ParseKeyring("c2hvcnQ=")
	if err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Errorf("error %v does not explain the key length", err)
	}
}

func TestDecrypt_Malformed(t *testing.T) {
	k, _ := ParseKeyring(GenerateKey())
	for _, ct := range [][]byte{nil, {2, 0, 0, 0, 0}, {1, 1}} {
		if _, err := k.Decrypt(ct, nil); err == nil {
			t.Errorf("Decrypt(%v) succeeded", ct)
		}
	}
}

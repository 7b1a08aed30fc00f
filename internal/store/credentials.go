package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// maskedSecret replaces a secret wherever a credential is shown or audited.
const maskedSecret = "********"

// Credential is how the integration signs in to an external system. Secret is
// clear text in memory only: it is stored sealed with the keyring and never
// appears in the audit log.
type Credential struct {
	System    string            // SystemAutotask or SystemAcronis
	Public    map[string]string // user name, base URL, client id…: safe to show
	Secret    string
	KeyID     string // which key sealed the stored secret
	UpdatedAt time.Time
	UpdatedBy string
}

// credentialAudit is the audited view of a credential: public fields only.
type credentialAudit struct {
	System        string            `json:"system"`
	Public        map[string]string `json:"public"`
	Secret        string            `json:"secret"`
	KeyID         string            `json:"keyId"`
	SecretChanged bool              `json:"secretChanged,omitempty"`
}

// associatedData binds a ciphertext to its row so it cannot be copied to
// another system's credential.
func associatedData(system string) []byte { return []byte("credentials/" + system) }

// SaveCredential encrypts c.Secret and stores the credential for c.System,
// replacing any previous one, with an audit row (secret masked) in the same
// transaction.
func (s *Store) SaveCredential(ctx context.Context, c Credential, actor Actor) error {
	what := fmt.Sprintf("save %s credential", c.System)
	if s.keyring == nil {
		return fmt.Errorf("%s: no keyring configured", what)
	}
	if c.Secret == "" {
		return fmt.Errorf("%s: %w", what, invalidf("secret is empty"))
	}
	for k, v := range c.Public {
		if strings.Contains(v, c.Secret) {
			return fmt.Errorf("%s: %w", what, invalidf("public field %q contains the secret", k))
		}
	}
	public := c.Public
	if public == nil {
		public = map[string]string{}
	}
	sealed, err := s.keyring.Encrypt([]byte(c.Secret), associatedData(c.System))
	if err != nil {
		return fmt.Errorf("%s: encrypt: %w", what, err)
	}
	keyID := s.keyring.PrimaryKeyID()

	return s.inTx(ctx, what, func(tx pgx.Tx) error {
		var before json.RawMessage
		changed := true
		old, oldSealed, err := readCredential(ctx, tx, c.System, true)
		switch {
		case noRows(err): // first save
		case err != nil:
			return fmt.Errorf("read the current credential: %w", err)
		default:
			// A secret sealed with a retired key cannot be compared; it is
			// being replaced either way.
			plain, derr := s.keyring.Decrypt(oldSealed, associatedData(c.System))
			changed = derr != nil || string(plain) != c.Secret
			before = mustJSON(credentialAudit{System: old.System, Public: old.Public, Secret: maskedSecret, KeyID: old.KeyID})
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO credentials (system, public, secret_ciphertext, key_id, updated_by)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (system) DO UPDATE SET public = excluded.public,
				secret_ciphertext = excluded.secret_ciphertext, key_id = excluded.key_id,
				updated_at = now(), updated_by = excluded.updated_by`,
			c.System, public, sealed, keyID, actor.Name)
		if err != nil {
			return err
		}
		_, err = AppendAuditTx(ctx, tx, AuditEntry{
			Kind:   KindCredentialUpdate,
			System: SystemAdmin,
			Target: "credentials/" + c.System,
			Before: before,
			After:  mustJSON(credentialAudit{System: c.System, Public: public, Secret: maskedSecret, KeyID: keyID, SecretChanged: changed}),
		}.WithActor(actor))
		return err
	})
}

// Credential returns the stored credential for system with its secret
// decrypted, or ErrNotFound when none was saved.
func (s *Store) Credential(ctx context.Context, system string) (Credential, error) {
	what := fmt.Sprintf("read %s credential", system)
	if s.keyring == nil {
		return Credential{}, fmt.Errorf("%s: no keyring configured", what)
	}
	c, sealed, err := readCredential(ctx, s.pool, system, false)
	if err != nil {
		return Credential{}, wrap(what, err)
	}
	plain, err := s.keyring.Decrypt(sealed, associatedData(system))
	if err != nil {
		return Credential{}, fmt.Errorf("%s: decrypt the secret sealed with key %s: %w", what, c.KeyID, err)
	}
	c.Secret = string(plain)
	return c, nil
}

// readCredential reads one credential row with its secret still sealed.
func readCredential(ctx context.Context, q Querier, system string, forUpdate bool) (Credential, []byte, error) {
	sql := `SELECT system, public, secret_ciphertext, key_id, updated_at, updated_by FROM credentials WHERE system = $1`
	if forUpdate {
		sql += " FOR UPDATE"
	}
	var (
		c      Credential
		sealed []byte
	)
	err := q.QueryRow(ctx, sql, system).Scan(&c.System, &c.Public, &sealed, &c.KeyID, &c.UpdatedAt, &c.UpdatedBy)
	return c, sealed, err
}

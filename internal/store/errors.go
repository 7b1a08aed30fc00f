package store

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNotFound means the requested row does not exist; the API answers 404.
var ErrNotFound = errors.New("store: not found")

// ErrConflict means an optimistic-concurrency check failed or a natural key is
// already taken; nothing was written and the caller should re-read.
var ErrConflict = errors.New("store: conflict")

// ErrInvalid means the database rejected a value (a check or not-null
// constraint); it is the caller's input that is wrong, not the server.
var ErrInvalid = errors.New("store: invalid value")

// PostgreSQL error codes this package translates.
const (
	codeUniqueViolation     = "23505"
	codeExclusionViolation  = "23P01"
	codeCheckViolation      = "23514"
	codeNotNullViolation    = "23502"
	codeForeignKeyViolation = "23503"
	codeSerialization       = "40001"
	classDataException      = "22" // malformed number, date, JSON…
	// classProgramLimit is a value too large for the database, e.g. a key
	// longer than an index row may be ("index row size exceeds maximum").
	classProgramLimit = "54"
)

// wrap names what failed and maps database errors to the sentinels, keeping
// the original error in the chain for logs.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, ErrInvalid) {
		return fmt.Errorf("%s: %w", what, err)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case codeUniqueViolation, codeExclusionViolation, codeSerialization:
			return fmt.Errorf("%s: %w (%s): %w", what, ErrConflict, pgErr.ConstraintName, err)
		case codeCheckViolation, codeNotNullViolation, codeForeignKeyViolation:
			return fmt.Errorf("%s: %w (%s): %w", what, ErrInvalid, constraintOrColumn(pgErr), err)
		}
		if strings.HasPrefix(pgErr.Code, classDataException) || strings.HasPrefix(pgErr.Code, classProgramLimit) {
			return fmt.Errorf("%s: %w: %w", what, ErrInvalid, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

func constraintOrColumn(e *pgconn.PgError) string {
	if e.ConstraintName != "" {
		return e.ConstraintName
	}
	return e.ColumnName
}

// invalidf reports a value rejected before it reaches the database.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// InvalidColumn names what the database refused in an ErrInvalid error: the
// column, else the constraint, else "". The API attributes the error to a
// field with it; validation should have caught the value before.
func InvalidColumn(err error) string {
	var pgErr *pgconn.PgError
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &pgErr) {
		return ""
	}
	return constraintOrColumn(pgErr)
}

package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConditions_NumbersPlaceholdersInOrder(t *testing.T) {
	var c conditions
	assert.Equal(t, "", c.clause(), "no conditions")
	c.add("a = ?", 1)
	c.add("(b = ? OR c LIKE ?)", "x", "y%")
	c.add("d <> ''")
	limit := c.param(10)
	assert.Equal(t, " WHERE a = $1 AND (b = $2 OR c LIKE $3) AND d <> ''", c.clause())
	assert.Equal(t, "$4", limit)
	assert.Equal(t, []any{1, "x", "y%", 10}, c.args)
}

func TestAuditCursor_RoundTrips(t *testing.T) {
	at := time.Date(2026, 11, 24, 18, 0, 0, 123456000, time.UTC)
	gotAt, gotID, err := decodeAuditCursor(encodeAuditCursor(at, 42))
	require.NoError(t, err)
	assert.True(t, at.Equal(gotAt), "at: got %v, want %v", gotAt, at)
	assert.Equal(t, int64(42), gotID)
	for _, bad := range []string{"", "!!", "MTIz", "YS5i"} {
		_, _, err := decodeAuditCursor(bad)
		assert.ErrorIs(t, err, ErrInvalid, "cursor %q", bad)
	}
}

func TestLikeEscaper_QuotesWildcards(t *testing.T) {
	assert.Equal(t, `acronis\_x\%\\`, likeEscaper.Replace(`acronis_x%\`))
}

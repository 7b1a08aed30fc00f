// Package codec encrypts every Temporal payload before it leaves the process,
// so workflow histories never hold credentials or customer data in clear text,
// and serves the codec-server endpoints that let the Temporal UI show decoded
// payloads to operators.
package codec

import (
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/acronis-autotask/acronis-autotask/internal/bounds"
	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
)

// Encoding marks payloads this codec produced; anything else passes through untouched.
const Encoding = "binary/encrypted"

// MetadataKeyID records which key sealed a payload, so rotation can be audited.
const MetadataKeyID = "encryption-key-id"

var associatedData = []byte("temporal-payload")

// Codec is a converter.PayloadCodec backed by the secrets keyring.
type Codec struct{ keys *secrets.Keyring }

// New returns a codec sealing with the keyring's primary key.
func New(keys *secrets.Keyring) *Codec { return &Codec{keys: keys} }

// Encode seals each payload (metadata and data) into a new encrypted payload.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		raw, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: marshal payload: %w", err)
		}
		sealed, err := c.keys.Encrypt(raw, associatedData)
		if err != nil {
			return nil, fmt.Errorf("codec: encrypt payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataKeyID:              []byte(c.keys.PrimaryKeyID()),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode opens payloads this codec sealed and returns others as they are.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		raw, err := c.keys.Decrypt(p.GetData(), associatedData)
		if err != nil {
			return nil, fmt.Errorf("codec: decrypt payload: %w", err)
		}
		dec := &commonpb.Payload{}
		if err := proto.Unmarshal(raw, dec); err != nil {
			return nil, fmt.Errorf("codec: unmarshal payload: %w", err)
		}
		out[i] = dec
	}
	return out, nil
}

// DataConverter is the default JSON/proto converter with every payload encrypted.
func DataConverter(keys *secrets.Keyring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), New(keys))
}

// FailureConverter encrypts failure messages and stack traces too; by default
// Temporal stores them in clear text and an error could quote a vendor answer.
// It also bounds every failure (bounds.ErrorMessage per message and stack
// trace, maxFailureDepth causes), so an error quoting a huge input can never
// push an activity's result past Temporal's 2 MB limit and retry forever.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return boundedFailures{
		dc:    dc,
		plain: temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc}),
		full:  temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true}),
	}
}

// maxFailureDepth bounds a failure's chain of causes; a cause chain longer
// than this is an error wrapped far more often than the code ever does.
const maxFailureDepth = 8

type boundedFailures struct {
	dc          converter.DataConverter
	plain, full converter.FailureConverter
}

// ErrorToFailure converts err without encryption, bounds the chain, then
// encrypts each level's message and stack trace as the default converter does.
func (b boundedFailures) ErrorToFailure(err error) *failurepb.Failure {
	f := b.plain.ErrorToFailure(err)
	if f == nil {
		return nil
	}
	// An error that came from a failure returns that failure itself; work on a copy.
	f = proto.Clone(f).(*failurepb.Failure)
	depth := 0
	for level := f; level != nil; level = level.Cause {
		if depth++; depth == maxFailureDepth {
			level.Cause = nil
		}
		if level.GetEncodedAttributes() != nil {
			continue // converted (and bounded) before, e.g. an activity's failure passed on by a workflow
		}
		level.Message = bounds.Truncate(level.Message, bounds.ErrorMessage)
		level.StackTrace = bounds.Truncate(level.StackTrace, bounds.ErrorMessage)
		if err := converter.EncodeCommonFailureAttributes(b.dc, level); err != nil {
			panic(err) // as the default converter: a codec that cannot encode is a programming error
		}
	}
	return f
}

// FailureToError decodes (and decrypts) as the default converter does.
func (b boundedFailures) FailureToError(f *failurepb.Failure) error { return b.full.FailureToError(f) }

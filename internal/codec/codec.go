// Package codec encrypts every Temporal payload before it leaves the process,
// so workflow histories never hold credentials or customer data in clear text,
// and serves the codec-server endpoints that let the Temporal UI show decoded
// payloads to operators.
package codec

import (
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

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
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})
}

package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Rounding rules for converting a raw usage value into billed units.
const (
	RoundUp      = "up"
	RoundDown    = "down"
	RoundNearest = "nearest"
)

// ServiceMapping maps one Acronis offering item to the Autotask service that
// bills it, and says how raw usage converts to billed units (for storage:
// bytes → GB, binary, rounding up, i.e. divisor 1073741824 and RoundUp).
type ServiceMapping struct {
	ApplicationID string `json:"applicationId"` // Acronis application id of the offering item
	OfferingItem  string `json:"offeringItem"`  // offering item name, e.g. "pw_base_workstations"
	// InfraID is the storage of a storage item ("" for other items): each storage maps on its own.
	InfraID string `json:"infraId,omitempty"`
	// ServiceID is the Autotask service; nil until the integration has
	// created the service named ServiceName.
	ServiceID   *int64 `json:"serviceId"`
	ServiceName string `json:"serviceName"`
	Free        bool   `json:"free"`       // provision as unlimited even when not in a contract
	RawUnit     string `json:"rawUnit"`    // Acronis measurement unit: bytes, quantity, seconds
	BilledUnit  string `json:"billedUnit"` // unit billed in Autotask: GB, unit, …
	Divisor     string `json:"divisor"`    // exact decimal: billed = raw / Divisor, then rounded; default "1"
	Rounding    string `json:"rounding"`   // RoundUp (default), RoundDown or RoundNearest
	// OverageServiceID, when set, makes a prepaid item's quota soft (overage
	// allowed) and names the Autotask service the usage above the contract
	// units is billed as, per closed period (SPEC F18 "prepaid with overage").
	OverageServiceID *int64    `json:"overageServiceId,omitempty"`
	UpdatedAt        time.Time `json:"updatedAt"`
	UpdatedBy        string    `json:"updatedBy"`
}

const serviceMappingColumns = `application_id, offering_item, infra_id, autotask_service_id, autotask_service_name, free,
	raw_unit, billed_unit, divisor::text, rounding, overage_service_id, updated_at, updated_by`

func scanServiceMapping(r pgx.Row) (ServiceMapping, error) {
	var m ServiceMapping
	err := r.Scan(&m.ApplicationID, &m.OfferingItem, &m.InfraID, &m.ServiceID, &m.ServiceName, &m.Free,
		&m.RawUnit, &m.BilledUnit, &m.Divisor, &m.Rounding, &m.OverageServiceID, &m.UpdatedAt, &m.UpdatedBy)
	return m, err
}

// UpsertServiceMapping creates or replaces the mapping of one offering item and
// audits the change in the same transaction.
func (s *Store) UpsertServiceMapping(ctx context.Context, m ServiceMapping, actor Actor) (ServiceMapping, error) {
	what := fmt.Sprintf("upsert service mapping %s", mappingTarget(m.ApplicationID, m.OfferingItem, m.InfraID))
	var saved ServiceMapping
	err := s.inTx(ctx, what, func(tx pgx.Tx) (err error) {
		saved, err = upsertServiceMappingTx(ctx, tx, m, actor)
		return err
	})
	if err != nil {
		return ServiceMapping{}, err
	}
	return saved, nil
}

// ReplaceServiceMappings makes rows the complete set of service mappings in
// one transaction: every row is upserted and every mapping not among them is
// removed, each change audited. Either all of it is saved or none, so a value
// the database refuses in a late row never leaves the earlier rows saved.
func (s *Store) ReplaceServiceMappings(ctx context.Context, rows []ServiceMapping, actor Actor) ([]ServiceMapping, error) {
	var saved []ServiceMapping
	err := s.inTx(ctx, "replace service mappings", func(tx pgx.Tx) (err error) {
		saved, err = replaceServiceMappingsTx(ctx, tx, rows, actor)
		return err
	})
	if err != nil {
		return nil, err
	}
	return saved, nil
}

// replaceServiceMappingsTx is ReplaceServiceMappings inside a caller's transaction.
func replaceServiceMappingsTx(ctx context.Context, tx pgx.Tx, rows []ServiceMapping, actor Actor) ([]ServiceMapping, error) {
	var saved []ServiceMapping
	err := func() error {
		saved = make([]ServiceMapping, 0, len(rows))
		keep := make(map[string]bool, len(rows))
		for _, m := range rows {
			keep[mappingTarget(m.ApplicationID, m.OfferingItem, m.InfraID)] = true
			got, err := upsertServiceMappingTx(ctx, tx, m, actor)
			if err != nil {
				return fmt.Errorf("save service mapping %s: %w", mappingTarget(m.ApplicationID, m.OfferingItem, m.InfraID), err)
			}
			saved = append(saved, got)
		}
		// Locked so a concurrent replace waits instead of deleting rows this one keeps.
		cur, err := tx.Query(ctx, `SELECT `+serviceMappingColumns+`
			FROM service_mappings ORDER BY application_id, offering_item, infra_id FOR UPDATE`)
		if err != nil {
			return err
		}
		current, err := pgx.CollectRows(cur, func(r pgx.CollectableRow) (ServiceMapping, error) { return scanServiceMapping(r) })
		if err != nil {
			return err
		}
		for _, m := range current {
			if keep[mappingTarget(m.ApplicationID, m.OfferingItem, m.InfraID)] {
				continue
			}
			if err := deleteServiceMappingTx(ctx, tx, m.ApplicationID, m.OfferingItem, m.InfraID, actor); err != nil {
				return fmt.Errorf("remove service mapping %s: %w", mappingTarget(m.ApplicationID, m.OfferingItem, m.InfraID), err)
			}
		}
		return nil
	}()
	return saved, err
}

func upsertServiceMappingTx(ctx context.Context, tx pgx.Tx, m ServiceMapping, actor Actor) (ServiceMapping, error) {
	if m.Divisor == "" {
		m.Divisor = "1"
	}
	if m.Rounding == "" {
		m.Rounding = RoundUp
	}
	before, err := scanServiceMapping(tx.QueryRow(ctx, `SELECT `+serviceMappingColumns+`
		FROM service_mappings WHERE application_id = $1 AND offering_item = $2 AND infra_id = $3 FOR UPDATE`,
		m.ApplicationID, m.OfferingItem, m.InfraID))
	existed := err == nil
	if err != nil && !noRows(err) {
		return ServiceMapping{}, err
	}
	saved, err := scanServiceMapping(tx.QueryRow(ctx, `
		INSERT INTO service_mappings (application_id, offering_item, infra_id, autotask_service_id, autotask_service_name,
			free, raw_unit, billed_unit, divisor, rounding, updated_by, overage_service_id)
		VALUES ($1, $2, $11, $3, $4, $5, $6, $7, $8::numeric, $9, $10, $12)
		ON CONFLICT (application_id, offering_item, infra_id) DO UPDATE SET
			autotask_service_id = excluded.autotask_service_id, autotask_service_name = excluded.autotask_service_name,
			free = excluded.free, raw_unit = excluded.raw_unit, billed_unit = excluded.billed_unit,
			divisor = excluded.divisor, rounding = excluded.rounding, overage_service_id = excluded.overage_service_id,
			updated_at = now(), updated_by = excluded.updated_by
		RETURNING `+serviceMappingColumns,
		m.ApplicationID, m.OfferingItem, m.ServiceID, m.ServiceName, m.Free, m.RawUnit, m.BilledUnit,
		m.Divisor, m.Rounding, actor.Name, m.InfraID, m.OverageServiceID))
	if err != nil {
		return ServiceMapping{}, err
	}
	e := AuditEntry{Kind: KindServiceMappingUpsert, System: SystemAdmin,
		Target: "service-mapping/" + mappingTarget(m.ApplicationID, m.OfferingItem, m.InfraID), After: mustJSON(saved)}
	if existed {
		e.Before = mustJSON(before)
	}
	if _, err := AppendAuditTx(ctx, tx, e.WithActor(actor)); err != nil {
		return ServiceMapping{}, err
	}
	return saved, nil
}

// ServiceMapping returns the mapping of one offering item (infraID "" for
// items that are not storage), or ErrNotFound.
func (s *Store) ServiceMapping(ctx context.Context, applicationID, offeringItem, infraID string) (ServiceMapping, error) {
	m, err := scanServiceMapping(s.pool.QueryRow(ctx, `SELECT `+serviceMappingColumns+`
		FROM service_mappings WHERE application_id = $1 AND offering_item = $2 AND infra_id = $3`, applicationID, offeringItem, infraID))
	if err != nil {
		return ServiceMapping{}, wrap("read service mapping "+mappingTarget(applicationID, offeringItem, infraID), err)
	}
	return m, nil
}

// ListServiceMappings returns every service mapping ordered by application and
// offering item.
func (s *Store) ListServiceMappings(ctx context.Context) ([]ServiceMapping, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+serviceMappingColumns+`
		FROM service_mappings ORDER BY application_id, offering_item, infra_id`)
	if err != nil {
		return nil, wrap("list service mappings", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ServiceMapping, error) { return scanServiceMapping(r) })
	if err != nil {
		return nil, wrap("list service mappings", err)
	}
	return out, nil
}

// DeleteServiceMapping removes the mapping of one offering item (ErrNotFound
// when there is none) and audits it.
func (s *Store) DeleteServiceMapping(ctx context.Context, applicationID, offeringItem, infraID string, actor Actor) error {
	return s.inTx(ctx, "delete service mapping "+mappingTarget(applicationID, offeringItem, infraID), func(tx pgx.Tx) error {
		return deleteServiceMappingTx(ctx, tx, applicationID, offeringItem, infraID, actor)
	})
}

func deleteServiceMappingTx(ctx context.Context, tx pgx.Tx, applicationID, offeringItem, infraID string, actor Actor) error {
	before, err := scanServiceMapping(tx.QueryRow(ctx, `DELETE FROM service_mappings
		WHERE application_id = $1 AND offering_item = $2 AND infra_id = $3 RETURNING `+serviceMappingColumns, applicationID, offeringItem, infraID))
	if err != nil {
		return err
	}
	_, err = AppendAuditTx(ctx, tx, AuditEntry{Kind: KindServiceMappingDelete, System: SystemAdmin,
		Target: "service-mapping/" + mappingTarget(applicationID, offeringItem, infraID), Before: mustJSON(before)}.WithActor(actor))
	return err
}

// mappingTarget names a mapping in audit rows and errors: application/item[@infra].
func mappingTarget(applicationID, offeringItem, infraID string) string {
	t := applicationID + "/" + offeringItem
	if infraID != "" {
		t += "@" + infraID
	}
	return t
}

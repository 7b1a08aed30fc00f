package acronis

import (
	"context"
	"fmt"
)

// EnableTenant enables a tenant at its current version; enabling an enabled
// tenant changes nothing. A version conflict is re-read and retried once.
func (c *Client) EnableTenant(ctx context.Context, id string) (Tenant, error) {
	return c.setEnabledLatest(ctx, id, true)
}

// DisableTenant disables a tenant at its current version (deprovisioning's
// first step); disabling a disabled tenant changes nothing.
func (c *Client) DisableTenant(ctx context.Context, id string) (Tenant, error) {
	return c.setEnabledLatest(ctx, id, false)
}

func (c *Client) setEnabledLatest(ctx context.Context, id string, enabled bool) (Tenant, error) {
	var last error
	for try := 0; try < 2; try++ {
		t, err := c.GetTenant(ctx, id)
		if err != nil {
			return t, err
		}
		if t.Enabled == enabled {
			return t, nil
		}
		out, err := c.SetTenantEnabled(ctx, id, t.Version, enabled)
		if err == nil {
			return out, nil
		}
		if !IsVersionConflict(err) {
			return out, err
		}
		last = err
	}
	return Tenant{}, fmt.Errorf("acronis: set enabled=%v on tenant %s: %w", enabled, id, last)
}

// RemoveTenant disables (if needed) and deletes a tenant with its children,
// users and backups, reading the version it needs. A tenant already gone is
// not an error, so the call can be repeated after a lost answer.
func (c *Client) RemoveTenant(ctx context.Context, id string) error {
	var last error
	for try := 0; try < 2; try++ {
		t, err := c.DisableTenant(ctx, id)
		if IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		err = c.DeleteTenant(ctx, id, t.Version)
		if err == nil || IsNotFound(err) {
			return nil
		}
		if !IsVersionConflict(err) {
			return err
		}
		last = err
	}
	return fmt.Errorf("acronis: delete tenant %s: %w", id, last)
}

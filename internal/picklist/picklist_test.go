package picklist

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCache_KeepsListsHoldsOffAFailedVendorAndRefreshes(t *testing.T) {
	c := NewCache(time.Hour)
	reads := 0
	down := false
	fetch := func(name Name) func(context.Context) (List, error) {
		return func(context.Context) (List, error) {
			reads++
			if down {
				return List{}, errors.New("vendor down")
			}
			return List{Name: name, Values: []Value{{ID: "1", Label: "High"}}, FetchedAt: time.Now()}, nil
		}
	}
	ctx := context.Background()
	if _, cached, err := c.Get(ctx, TicketPriorities, false, fetch(TicketPriorities)); err != nil || cached {
		t.Fatalf("first Get: cached %v, %v", cached, err)
	}
	if _, cached, _ := c.Get(ctx, TicketPriorities, false, fetch(TicketPriorities)); !cached || reads != 1 {
		t.Fatalf("second Get: cached %v after %d reads, want cached after 1", cached, reads)
	}
	down = true
	if _, _, err := c.Get(ctx, Queues, false, fetch(Queues)); err == nil {
		t.Fatal("Get of a down vendor succeeded")
	}
	// Another list of the same vendor is not read while the failure is fresh; the other vendor is.
	if _, _, err := c.Get(ctx, TicketTypes, false, fetch(TicketTypes)); err == nil || reads != 2 {
		t.Fatalf("Get during the hold-off: %v after %d reads, want the failure without a read", err, reads)
	}
	down = false
	if _, _, err := c.Get(ctx, Storages, false, fetch(Storages)); err != nil || reads != 3 {
		t.Fatalf("other vendor: %v after %d reads", err, reads)
	}
	if _, cached, err := c.Get(ctx, TicketTypes, true, fetch(TicketTypes)); err != nil || cached {
		t.Fatalf("refresh: cached %v, %v; want a read", cached, err)
	}
	if _, _, err := c.Get(ctx, Queues, false, fetch(Queues)); err != nil {
		t.Fatalf("after the vendor answered a refresh, other lists read again: %v", err)
	}
}

func TestList_UnknownListsTheValidValues(t *testing.T) {
	l := List{Name: BillingCodes, Values: []Value{{ID: "29682801", Label: "Recurring Services"}, {ID: "29682802", Label: "Acronis Cloud Services"}}}
	msg := l.Unknown("999999")
	for _, want := range []string{"999999 is not an active Recurring Contract Service allocation code in Autotask", "29682801 Recurring Services, 29682802 Acronis Cloud Services"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if n, ok := SettingsList("usageReporting.storageClasses[3].infraId"); !ok || n != Storages {
		t.Errorf("storage class field → %q %v, want storages", n, ok)
	}
}

package store_test

import (
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/store"
)

func TestIDFloorAndTime(t *testing.T) {
	before := store.NewID()
	time.Sleep(2 * time.Millisecond)
	at := time.Now()
	floor := store.IDFloor(at.Add(-time.Millisecond))
	id := store.NewID()
	if !(before < floor && floor < id) {
		t.Errorf("floor %s does not sort between %s and %s", floor, before, id)
	}
	got, ok := store.IDTime(id)
	if !ok || got.Sub(at).Abs() > time.Second {
		t.Errorf("IDTime(%s) = %v %v, want about %v", id, got, ok, at)
	}
	if _, ok := store.IDTime("not an id"); ok {
		t.Error("IDTime took a non-id")
	}
	if _, ok := store.IDTime("6ba7b810-9dad-11d1-80b4-00c04fd430c8"); ok {
		t.Error("IDTime took a version 1 UUID")
	}
	if f := store.IDFloor(time.UnixMilli(0x0123456789ab)); f != "01234567-89ab-0000-0000-000000000000" {
		t.Errorf("IDFloor = %s", f)
	}
}

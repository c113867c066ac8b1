package houqin

import (
	"testing"
	"time"
)

func TestPreferences(t *testing.T) {
	p := Preferences{Channels: map[string]bool{"email": false}, QuietHours: &QuietHours{From: "22:00", To: "08:00"}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Wants("email") || !p.Wants("dingtalk") {
		t.Errorf("Wants: email %t, dingtalk %t", p.Wants("email"), p.Wants("dingtalk"))
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, BusinessZone)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for now, want := range map[string]string{
		"2026-12-06 23:30": "2026-12-07 08:00", "2026-12-07 07:59": "2026-12-07 08:00",
		"2026-12-07 08:00": "2026-12-07 08:00", "2026-12-07 12:00": "2026-12-07 12:00",
	} {
		if got := p.QuietUntil(at(now)); !got.Equal(at(want)) {
			t.Errorf("QuietUntil(%s) = %s, want %s", now, got.In(BusinessZone).Format("2006-01-02 15:04"), want)
		}
	}
	day := Preferences{QuietHours: &QuietHours{From: "12:00", To: "13:30"}}
	if got := day.QuietUntil(at("2026-12-07 12:10")); !got.Equal(at("2026-12-07 13:30")) {
		t.Errorf("a lunch break: %s", got)
	}
	for _, bad := range []Preferences{
		{QuietHours: &QuietHours{From: "25:00", To: "08:00"}},
		{QuietHours: &QuietHours{From: "08:00", To: "08:00"}},
		{Channels: map[string]bool{"E-Mail": true}},
	} {
		if err := bad.Validate(); ErrorCode(err) != EINVALID {
			t.Errorf("Validate(%+v) = %v, want EINVALID", bad, err)
		}
	}
}

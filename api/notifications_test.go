package api_test

import (
	"net/http"
	"testing"

	"github.com/houqin/houqin"
)

// TestPreferences: each person sets how they want to be told and reads it
// back; bad quiet hours are refused naming the field; someone who set
// nothing has every channel and no quiet hours.
func TestPreferences(t *testing.T) {
	f := newFixture(t, t0)
	var p houqin.Preferences
	decodeOK(t, f.do("li.na", http.MethodGet, "/v1/me/preferences", ""), 200, &p)
	if len(p.Channels) != 0 || p.QuietHours != nil {
		t.Errorf("li.na's preferences before any = %+v", p)
	}
	decodeOK(t, f.do("wang.fang", http.MethodPut, "/v1/me/preferences", `{"channels":{"email":false},"quiet_hours":{"from":"22:00","to":"08:00"}}`), 200, &p)
	f.catchUp()
	var got houqin.Preferences
	decodeOK(t, f.do("wang.fang", http.MethodGet, "/v1/me/preferences", ""), 200, &got)
	if got.Wants("email") || !got.Wants("dingtalk") || got.QuietHours == nil || got.QuietHours.From != "22:00" {
		t.Errorf("wang.fang's preferences = %+v", got)
	}
	var lina houqin.Preferences
	decodeOK(t, f.do("li.na", http.MethodGet, "/v1/me/preferences", ""), 200, &lina)
	if len(lina.Channels) != 0 || lina.QuietHours != nil {
		t.Errorf("li.na reads wang.fang's preferences: %+v", lina)
	}
	problem(t, f.do("wang.fang", http.MethodPut, "/v1/me/preferences", `{"quiet_hours":{"from":"25:00","to":"08:00"}}`), 400,
		`quiet_hours.from: must be HH:MM, got "25:00"`)
	problem(t, f.do("wang.fang", http.MethodPut, "/v1/me/preferences", `{"sms":true}`), 400, "sms: unknown field")
}

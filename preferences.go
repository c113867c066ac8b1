package houqin

import (
	"fmt"
	"regexp"
	"time"
)

// Preferences are how a person wants to be told (docs/NOTIFICATIONS.md):
// which channels, and quiet hours during which nothing is sent to them
// (the bell still shows everything).
type Preferences struct {
	// Channels turns channels off: {"email": false}. A channel not named
	// is on.
	Channels map[string]bool `json:"channels"`
	// QuietHours, if set, holds deliveries from From to To (China time,
	// "22:00" to "08:00" spans midnight) until To.
	QuietHours *QuietHours `json:"quiet_hours,omitempty"`
	// Digest gathers the day's emails into one, sent at DigestTime.
	Digest bool `json:"digest,omitempty"`
}

// DigestTime is when the daily digest goes, China time.
const DigestTime = "08:30"

// QuietHours is a daily window, HH:MM in China time.
type QuietHours struct {
	From string `json:"from"`
	To   string `json:"to"`
}

var (
	channelName = regexp.MustCompile(`^[a-z][a-z0-9_:-]{0,40}$`)
	clock       = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// Validate reports as EINVALID, naming the field, what is wrong with p.
func (p Preferences) Validate() error {
	if len(p.Channels) > 20 {
		return Errorf(EINVALID, "channels: at most %d, got %d", 20, len(p.Channels))
	}
	for name := range p.Channels {
		if !channelName.MatchString(name) {
			return Errorf(EINVALID, "channels.%s: not a channel name such as email, dingtalk or webhook:ops", name)
		}
	}
	if q := p.QuietHours; q != nil {
		switch {
		case !clock.MatchString(q.From):
			return Errorf(EINVALID, "quiet_hours.from: must be HH:MM, got %q", q.From)
		case !clock.MatchString(q.To):
			return Errorf(EINVALID, "quiet_hours.to: must be HH:MM, got %q", q.To)
		case q.From == q.To:
			return Errorf(EINVALID, "quiet_hours.to: must differ from from (%s)", q.From)
		}
	}
	return nil
}

// Wants reports whether the person takes notifications on channel.
func (p Preferences) Wants(channel string) bool {
	on, named := p.Channels[channel]
	return !named || on
}

// QuietUntil returns, if t falls in the quiet hours, when they end; else
// t itself.
func (p Preferences) QuietUntil(t time.Time) time.Time {
	q := p.QuietHours
	if q == nil {
		return t
	}
	local := t.In(BusinessZone)
	minutes := func(s string) int {
		var h, m int
		fmt.Sscanf(s, "%d:%d", &h, &m)
		return h*60 + m
	}
	now, from, to := local.Hour()*60+local.Minute(), minutes(q.From), minutes(q.To)
	quiet := from < to && now >= from && now < to || from > to && (now >= from || now < to)
	if !quiet {
		return t
	}
	end := time.Date(local.Year(), local.Month(), local.Day(), to/60, to%60, 0, 0, BusinessZone)
	if !end.After(local) {
		end = end.AddDate(0, 0, 1)
	}
	return end
}

// PreferencesStream returns the stream of a user's preferences.
func PreferencesStream(user string) string { return "preferences-" + user }

// PreferencesSet records a user's preferences, replacing the last.
type PreferencesSet struct {
	User        string      `json:"user"`
	Preferences Preferences `json:"preferences"`
}

// EventType implements EventData.
func (PreferencesSet) EventType() string { return "user.preferences_set" }

func init() { RegisterEventType(PreferencesSet{}) }

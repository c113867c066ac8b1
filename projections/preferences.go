package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/houqin/houqin"
)

// UserPreferences folds user.preferences_set into each person's current
// preferences (how they want to be told).
type UserPreferences struct{}

var _ Projection = UserPreferences{}

// Name implements Projection.
func (UserPreferences) Name() string { return "user_preferences" }

// Version implements Projection.
func (UserPreferences) Version() int { return 1 }

// Setup implements Projection.
func (UserPreferences) Setup(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS user_preferences (
		user_id     TEXT   PRIMARY KEY,
		preferences TEXT   NOT NULL,
		position    BIGINT NOT NULL
	)`)
	return err
}

// Reset implements Projection.
func (UserPreferences) Reset(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM user_preferences`)
	return err
}

// Apply implements Projection.
func (UserPreferences) Apply(ctx context.Context, tx *sql.Tx, events []houqin.Event) error {
	for _, e := range events {
		if e.Type != (houqin.PreferencesSet{}).EventType() {
			continue
		}
		var d houqin.PreferencesSet
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return err
		}
		raw, err := json.Marshal(d.Preferences)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_preferences (user_id, preferences, position) VALUES ($1, $2, $3)
			ON CONFLICT (user_id) DO UPDATE SET preferences = excluded.preferences, position = excluded.position`, d.User, string(raw), e.Position); err != nil {
			return fmt.Errorf("preferences of %s: %w", d.User, err)
		}
	}
	return nil
}

// GetPreferences returns a user's preferences; the defaults (every
// channel, no quiet hours) if they set none.
func GetPreferences(ctx context.Context, db *sql.DB, user string) (houqin.Preferences, error) {
	var raw string
	err := db.QueryRowContext(ctx, `SELECT preferences FROM user_preferences WHERE user_id = $1`, user).Scan(&raw)
	p := houqin.Preferences{Channels: map[string]bool{}}
	switch {
	case err == sql.ErrNoRows:
		return p, nil
	case err != nil:
		return p, fmt.Errorf("read the preferences of %s: %w", user, err)
	}
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return p, err
	}
	if p.Channels == nil {
		p.Channels = map[string]bool{}
	}
	return p, nil
}

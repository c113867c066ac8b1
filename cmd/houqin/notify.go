package main

import (
	"context"
	"database/sql"
	"log/slog"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/notify"
	"github.com/prometheus/client_golang/prometheus"
)

// newSender reads the notifications file and sets up its sender; nil
// without a file (the web app's bell still shows every notification).
func newSender(ctx context.Context, path string, db *sql.DB, org *houqin.Org, log *slog.Logger, reg prometheus.Registerer) (*notify.Sender, error) {
	if path == "" {
		return nil, nil
	}
	cfg, err := notify.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	s := &notify.Sender{DB: db, Org: org, Config: cfg, Log: log}
	if err := s.Setup(ctx, reg); err != nil {
		return nil, err
	}
	return s, nil
}

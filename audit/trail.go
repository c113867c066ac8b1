package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/houqin/houqin"
	"github.com/xuri/excelize/v2"
)

// processCategories maps a process ID's prefix to its stream category.
var processCategories = map[string]houqin.ProcessKind{
	"PR": houqin.KindProcurement,
	"TR": houqin.KindTrip,
	"IN": houqin.KindInspection,
	"EV": houqin.KindEvent,
	"BU": houqin.KindBudget,
	"BA": houqin.KindBudget, // a budget adjustment
	"IS": houqin.KindIssue,
	"ST": houqin.KindStocktake,
	"SV": houqin.KindSurvey,
}

// ProcessStream returns the stream of a process ID ("PR-2026-000001" →
// "procurement-PR-2026-000001"); EINVALID for an ID of no known kind.
func ProcessStream(processID string) (string, error) {
	prefix, _, _ := strings.Cut(processID, "-")
	kind, ok := processCategories[prefix]
	if !ok {
		return "", houqin.Errorf(houqin.EINVALID, "id: %q is not a process ID (PR-, TR-, IN-, EV-, BU-, BA-, IS-, ST- or SV-…)", processID)
	}
	return string(kind) + "-" + processID, nil
}

// ReadProcess reads every event of a process's stream from the store, the
// source of truth; ENOTFOUND if it has none.
func ReadProcess(ctx context.Context, store houqin.EventStore, processID string) ([]houqin.Event, error) {
	stream, err := ProcessStream(processID)
	if err != nil {
		return nil, err
	}
	events, err := ReadStream(ctx, store, stream)
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, houqin.Errorf(houqin.ENOTFOUND, "process: no process %q", processID)
	}
	return events, nil
}

// ReadStream reads every event of a stream, in order; none if it does not
// exist.
func ReadStream(ctx context.Context, store houqin.EventStore, stream string) ([]houqin.Event, error) {
	var events []houqin.Event
	for from := int64(0); ; {
		batch, err := store.ReadStream(ctx, stream, from, houqin.Forward, readBatch)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		events = append(events, batch...)
		if len(batch) < readBatch {
			return events, nil
		}
		from = batch[len(batch)-1].Version + 1
	}
}

// TrailEntry is one event of a process as an auditor reads it: who, on
// whose behalf, when, why, under which policy, caused by what, and the
// routing explanation and comment lifted from the payload when it has them.
type TrailEntry struct {
	Position      int64           `json:"position"`
	Stream        string          `json:"stream"`
	Version       int64           `json:"version"`
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	Actor         string          `json:"actor"`
	OnBehalfOf    string          `json:"on_behalf_of"`
	OccurredAt    time.Time       `json:"occurred_at"`
	RecordedAt    time.Time       `json:"recorded_at"`
	Reason        string          `json:"reason"`
	Comment       string          `json:"comment"`
	CausationID   string          `json:"causation_id"`
	CorrelationID string          `json:"correlation_id"`
	PolicyHash    string          `json:"policy_hash"`
	Explanation   json.RawMessage `json:"explanation,omitempty"` // any JSON the payload's "explanation" key holds
	Data          json.RawMessage `json:"data"`
	Hash          houqin.Hash     `json:"hash"`
}

// Trail is the full audit trail of one process, with the verdict on its
// hash chain.
type Trail struct {
	ProcessID  string       `json:"process_id"`
	Stream     string       `json:"stream"`
	ChainOK    bool         `json:"chain_ok"`
	ChainError string       `json:"chain_error,omitempty"`
	Events     []TrailEntry `json:"events"`
}

// NewTrail builds the trail of a process from its stream's events.
func NewTrail(processID string, events []houqin.Event) Trail {
	t := Trail{ProcessID: processID, ChainOK: true, Events: make([]TrailEntry, 0, len(events))}
	if len(events) > 0 {
		t.Stream = events[0].Stream
	}
	if err := houqin.Verify(events); err != nil {
		t.ChainOK, t.ChainError = false, err.Error()
	}
	for _, e := range events {
		var payload struct {
			Explanation json.RawMessage `json:"explanation"`
			Comment     any             `json:"comment"`
		}
		_ = json.Unmarshal(e.Data, &payload) // a payload is a JSON object; anything else just lifts nothing
		comment, _ := payload.Comment.(string)
		t.Events = append(t.Events, TrailEntry{
			Position: e.Position, Stream: e.Stream, Version: e.Version, ID: e.ID, Type: e.Type,
			Actor: e.Meta.Actor, OnBehalfOf: e.Meta.OnBehalfOf, OccurredAt: e.Meta.OccurredAt, RecordedAt: e.RecordedAt,
			Reason: e.Meta.Reason, Comment: comment, CausationID: e.Meta.CausationID, CorrelationID: e.Meta.CorrelationID,
			PolicyHash: e.Meta.PolicyHash, Explanation: payload.Explanation, Data: e.Data, Hash: e.Hash,
		})
	}
	return t
}

// Formats are the export formats of a trail, the first the default.
var Formats = []string{"json", "jsonl", "csv", "xlsx"}

// ContentType returns the media type of an export format.
func ContentType(format string) string {
	switch format {
	case "jsonl":
		return "application/jsonl; charset=utf-8"
	case "csv":
		return "text/csv; charset=utf-8"
	case "xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	default:
		return "application/json; charset=utf-8"
	}
}

// Write writes the trail in format (one of Formats); EINVALID otherwise.
func (t Trail) Write(w io.Writer, format string) error {
	switch format {
	case "", "json":
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return enc.Encode(t)
	case "jsonl":
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, e := range t.Events {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		return t.writeCSV(w)
	case "xlsx":
		return t.writeXLSX(w)
	}
	return houqin.Errorf(houqin.EINVALID, "format: must be one of %s, got %q", strings.Join(Formats, ", "), format)
}

// columns are the columns of the tabular exports.
var columns = []string{"position", "stream", "version", "id", "type", "occurred_at", "recorded_at", "actor", "on_behalf_of",
	"reason", "comment", "explanation", "causation_id", "correlation_id", "policy_hash", "hash", "data"}

func (e TrailEntry) row() []string {
	return []string{strconv.FormatInt(e.Position, 10), e.Stream, strconv.FormatInt(e.Version, 10), e.ID, e.Type,
		timeText(e.OccurredAt), timeText(e.RecordedAt), e.Actor, e.OnBehalfOf, e.Reason, e.Comment, explanationText(e.Explanation),
		e.CausationID, e.CorrelationID, e.PolicyHash, e.Hash.String(), string(e.Data)}
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// explanationText is a string explanation as it is, anything else as JSON.
func explanationText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// writeCSV writes RFC 4180 CSV with a UTF-8 byte order mark, so that Excel
// opens Chinese text correctly.
func (t Trail) writeCSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(columns); err != nil {
		return err
	}
	for _, e := range t.Events {
		if err := cw.Write(e.row()); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// maxCellChars is the most characters an Excel cell holds.
const maxCellChars = 32767

// writeXLSX writes one sheet named after the process, a header row and one
// row per event.
func (t Trail) writeXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := "Audit"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	row := func(n int, values []string) error {
		cells := make([]any, len(values))
		for i, v := range values {
			if r := []rune(v); len(r) > maxCellChars { // Excel's limit per cell
				v = string(r[:maxCellChars-20]) + "…(truncated)"
			}
			cells[i] = v
		}
		cell, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return err
		}
		return sw.SetRow(cell, cells)
	}
	if err := row(1, columns); err != nil {
		return err
	}
	for i, e := range t.Events {
		if err := row(i+2, e.row()); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/houqin/houqin"
)

// nextNumber takes the next number of a sequence ("PR-2026") from the event
// store: the number is the version of the event that took it, plus one. An
// append is atomic, so two callers never get the same number.
func (s *Server) nextNumber(ctx context.Context, sequence string) (int64, error) {
	e := houqin.Event{
		ID:   uuid.NewString(), // each call takes a new number
		Type: "sequence.number_taken", Data: json.RawMessage(`{}`),
		Meta: houqin.Metadata{Actor: "system", OccurredAt: s.cfg.Now()},
	}
	out, err := s.cfg.Store.Append(ctx, "sequence-"+sequence, houqin.ExpectAny, e)
	if err != nil {
		return 0, fmt.Errorf("take a number of %s: %w", sequence, err)
	}
	return out[0].Version + 1, nil
}

// keyUsed records that an Idempotency-Key created a process.
type keyUsed struct {
	ProcessID   string `json:"process_id"`
	User        string `json:"user"`
	RequestHash string `json:"request_hash"`
}

// claimKey binds an Idempotency-Key of a user to processID. If the key was
// used before it returns the process it created then; the same key with a
// different request body is ECONFLICT.
func (s *Server) claimKey(ctx context.Context, user, key string, body []byte, processID string) (string, error) {
	if len(key) > 200 {
		return "", houqin.Errorf(houqin.EINVALID, "Idempotency-Key: longer than 200 characters")
	}
	sum := sha256.Sum256([]byte(user + "\x00" + key))
	stream := "idempotency-" + hex.EncodeToString(sum[:16])
	bodySum := sha256.Sum256(body)
	data, _ := json.Marshal(keyUsed{ProcessID: processID, User: user, RequestHash: hex.EncodeToString(bodySum[:])})
	e := houqin.Event{ID: houqin.EventID(stream, processID), Type: "idempotency.key_used", Data: data,
		Meta: houqin.Metadata{Actor: user, CorrelationID: processID, OccurredAt: s.cfg.Now()}}
	_, err := s.cfg.Store.Append(ctx, stream, houqin.ExpectNoStream, e)
	if houqin.ErrorCode(err) != houqin.ECONFLICT {
		return processID, err
	}
	prior, err := s.cfg.Store.ReadStream(ctx, stream, 0, houqin.Forward, 1)
	if err != nil || len(prior) == 0 {
		return "", fmt.Errorf("read idempotency key: %v", err)
	}
	var used keyUsed
	if err := json.Unmarshal(prior[0].Data, &used); err != nil {
		return "", fmt.Errorf("read idempotency key: %w", err)
	}
	if used.RequestHash != hex.EncodeToString(bodySum[:]) {
		return "", houqin.Errorf(houqin.ECONFLICT, "Idempotency-Key: already used for another request (process %s)", used.ProcessID)
	}
	return used.ProcessID, nil
}

package houqin

// HistoryKept records that houqin keeps a copy of a closed run of the
// process's workflow history (worker.HistoryKeeper): the file's SHA-256
// is on the process's stream, so the hash chain covers the copy, and
// `houqin replay --workflow-id` replays it once Temporal's retention has
// deleted the original.
type HistoryKept struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Events     int    `json:"events"` // history events in the copy
	Bytes      int64  `json:"bytes"`
	SHA256     string `json:"sha256"` // hex, of the file's bytes
	File       string `json:"file"`   // path under the histories directory: <workflow ID>/<run ID>.json
}

// EventType implements EventData.
func (HistoryKept) EventType() string { return "process.history_kept" }

func init() { RegisterEventType(HistoryKept{}) }

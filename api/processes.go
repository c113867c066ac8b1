package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// readers may see every process: they audit, run the department, or pay.
var readerRoles = []string{"auditor", "admin", "logistics_manager"}

// processCreated is the body of 201 responses to process-creating POSTs.
type processCreated struct {
	ID       string             `json:"id"`
	Kind     houqin.ProcessKind `json:"kind"`
	Status   houqin.Status      `json:"status"`
	Position int64              `json:"position"`
}

func (s *Server) startProcurement(w http.ResponseWriter, r *http.Request) {
	who := identity(r)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.problems.Error(w, r, decodeErr(err))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	req, err := s.procurementRequest(r)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	// The route must resolve now, on the facts the workflow will see: a
	// request nobody could approve is refused (422) before it exists.
	facts, err := s.procurementFacts(r, req, who.UserID)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	policy, err := s.kindPolicy(r, houqin.KindProcurement, facts)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	// Logistics staff do the work steps, never the requester: a staffer's
	// own requisition goes to the others, or to the logistics manager.
	logistics := s.cfg.Org.Doers([]string{who.UserID}, houqin.LogisticsRoles...)
	if len(logistics) == 0 {
		s.problems.Error(w, r, houqin.Errorf(houqin.EUNAVAILABLE, "logistics: nobody but the requester has the role logistics_staff or logistics_manager to buy for this requisition"))
		return
	}
	s.startProcess(w, r, body, "PR", workflows.ProcessID, houqin.KindProcurement, workflows.Procurement, func(id string) any {
		return workflows.ProcurementInput{ProcessID: id, Requester: who.UserID, Request: req,
			Policy: policy, PolicyHash: policy.Hash(), Logistics: logistics}
	})
}

// startProcess numbers a process ("IS-2026"), honours Idempotency-Key,
// starts its workflow with the input input(id) returns, and answers 201
// once its first events are stored.
func (s *Server) startProcess(w http.ResponseWriter, r *http.Request, body []byte, prefix string, idOf func(int, int64) string,
	kind houqin.ProcessKind, workflow any, input func(id string) any) {
	ctx, who := r.Context(), identity(r)
	year := s.cfg.Now().Year()
	n, err := s.nextNumber(ctx, prefix+"-"+strconv.Itoa(year))
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	processID := idOf(year, n)
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if processID, err = s.claimKey(ctx, who.UserID, key, body, processID); err != nil {
			s.problems.Error(w, r, err)
			return
		}
	}
	s.launch(w, r, kind, processID, workflow, input(processID))
}

// startBody reads the body of a start route into req, keeping the raw
// bytes, which an Idempotency-Key is checked against. (Auditors never get
// here: readOnlyAuditors refuses their POSTs.)
func startBody(r *http.Request, req any) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, decodeErr(err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, decode(r, req)
}

// launch starts the workflow of a process of kind with its input — the
// same ID again joins the one running, so a retry or a reused
// Idempotency-Key never starts two — waits until its first events are
// stored and answers 201 with their position, for read-your-writes.
func (s *Server) launch(w http.ResponseWriter, r *http.Request, kind houqin.ProcessKind, processID string, workflow, input any) {
	_, err := s.cfg.Temporal.ExecuteWorkflow(r.Context(), client.StartWorkflowOptions{
		ID: processID, TaskQueue: workflows.TaskQueue,
		StaticSummary:            workflows.Summary(kind, identity(r).Name, amountOf(input)),
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, workflow, input)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	// A Query, not an Update: waiting leaves no trace in the history.
	state, err := s.waitStarted(r, processID)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, processCreated{ID: processID, Kind: kind, Status: state.Status, Position: state.Position})
}

// amountOf is the amount a process's summary shows: what a procurement
// costs, the estimate of a trip or an event, a budget's total.
func amountOf(input any) int64 {
	switch in := input.(type) {
	case workflows.ProcurementInput:
		return in.Request.Total()
	case workflows.TripInput:
		return in.Request.EstimatedCost
	case workflows.EventInput:
		return in.Request.EstimatedCost
	case workflows.BudgetInput:
		if in.Draft != nil {
			return in.Draft.Total()
		}
	}
	return 0
}

// waitStarted polls the workflow's state until its first events are stored
// (at most WaitLimit).
func (s *Server) waitStarted(r *http.Request, processID string) (workflows.State, error) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.WaitLimit)
	defer cancel()
	for {
		var state workflows.State
		err := s.query(ctx, processID, workflows.QueryState, &state)
		if err == nil && state.Position > 0 {
			return state, nil
		}
		select {
		case <-ctx.Done():
			return workflows.State{}, houqin.Errorf(houqin.EUNAVAILABLE, "process %s was started but has not recorded its request yet; read it later", processID)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// query asks a process's workflow the query name and decodes its answer
// into out.
func (s *Server) query(ctx context.Context, processID, name string, out any) error {
	v, err := s.cfg.Temporal.QueryWorkflow(ctx, processID, "", name)
	if err != nil {
		return err
	}
	return v.Get(out)
}

// update runs a Workflow Update and waits for its result.
func (s *Server) update(r *http.Request, processID, name string, arg, result any) error {
	opts := client.UpdateWorkflowOptions{WorkflowID: processID, UpdateName: name, WaitForStage: client.WorkflowUpdateStageCompleted}
	if arg != nil {
		opts.Args = []any{arg}
	}
	h, err := s.cfg.Temporal.UpdateWorkflow(r.Context(), opts)
	if err != nil {
		return err
	}
	return h.Get(r.Context(), result)
}

func (s *Server) listProcesses(w http.ResponseWriter, r *http.Request) {
	who, q := identity(r), r.URL.Query()
	limit, before, err := page(r)
	if err == nil {
		err = oneOf("kind", q.Get("kind"), "procurement", "trip", "inspection", "event", "budget", "issue", "stocktake")
	}
	if err == nil {
		err = oneOf("status", q.Get("status"), "running", "completed", "rejected", "withdrawn", "cancelled", "failed", "terminated")
	}
	if err == nil {
		err = oneOf("mine", q.Get("mine"), "true", "false")
	}
	if err == nil {
		err = s.waitMinPosition(r)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	f := projections.ProcessFilter{Kind: q.Get("kind"), Status: q.Get("status"), Before: before, Limit: limit}
	if q.Get("mine") == "true" || !hasAnyRole(who, readerRoles) {
		f.Party = who.UserID // everyone sees their own (and trips made for them); readers see all
	}
	items, err := projections.ListProcesses(r.Context(), s.cfg.ReadModels, f)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPage(items, limit, func(p projections.ProcessRow) int64 { return p.Position }))
}

type processDetail struct {
	projections.ProcessRow
	Tasks    []projections.TaskRow       `json:"tasks"`
	Timeline []projections.TimelineEntry `json:"timeline"`
}

func (s *Server) getProcess(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("as_of") {
		s.processAsOf(w, r) // the past, from the event store (api/audit.go)
		return
	}
	if err := s.waitMinPosition(r); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	ctx, who, id := r.Context(), identity(r), chi.URLParam(r, "id")
	p, timeline, err := projections.GetProcess(ctx, s.cfg.ReadModels, id)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	tasks, err := projections.ListTasks(ctx, s.cfg.ReadModels, projections.TaskFilter{ProcessID: id, Now: s.cfg.Now(), Limit: 1000})
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	copied, err := projections.CopiedTo(ctx, s.cfg.ReadModels, id, who.UserID)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	if !copied && !canRead(who, p, tasks, timeline) {
		s.problems.Error(w, r, houqin.Errorf(houqin.EFORBIDDEN, "process: %s may not read %s", who.UserID, id))
		return
	}
	writeJSON(w, http.StatusOK, processDetail{ProcessRow: p, Tasks: tasks, Timeline: timeline})
}

// canRead: the requester, the subject (a trip's traveller, whoever
// submitted it), anyone who has or had a task on the
// process or acted on it (a task transferred away included), and the
// reader roles; the caller adds the users the process was copied to.
func canRead(who houqin.Identity, p projections.ProcessRow, tasks []projections.TaskRow, timeline []projections.TimelineEntry) bool {
	if p.Requester == who.UserID || hasAnyRole(who, readerRoles) || p.Subject == who.UserID {
		return true
	}
	for _, t := range tasks {
		if slices.Contains(t.Assignees, who.UserID) || t.CompletedBy == who.UserID {
			return true
		}
	}
	return slices.ContainsFunc(timeline, func(e projections.TimelineEntry) bool { return e.Actor == who.UserID })
}

func hasAnyRole(who houqin.Identity, roles []string) bool {
	for _, r := range roles {
		if who.HasRole(r) {
			return true
		}
	}
	return false
}

func decodeErr(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return houqin.Errorf(houqin.EINVALID, "body: larger than %d bytes", tooBig.Limit)
	}
	return houqin.Errorf(houqin.EINVALID, "body: %v", err)
}

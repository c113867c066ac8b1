package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/reports"
	"github.com/houqin/houqin/workflows"
)

// stockKeepers may define items and start stocktakes.
var stockKeepers = []string{"logistics_staff", "logistics_manager", "warehouse", "admin"}

// maxItemWrites bounds the read-modify-append attempts of an item change.
const maxItemWrites = 20

// itemBody is the answer to an item's definition or change.
type itemBody struct {
	Item     houqin.ItemSpec `json:"item"`
	Slug     string          `json:"slug"`
	OnHand   int64           `json:"on_hand"`
	Version  int64           `json:"version"`
	Position int64           `json:"position"`
}

func (s *Server) mustKeepStock(r *http.Request) error {
	if who := identity(r); !hasAnyRole(who, stockKeepers) {
		return houqin.Errorf(houqin.EFORBIDDEN, "role: only %s may manage the inventory", strings.Join(stockKeepers, ", "))
	}
	return nil
}

// defineItem is POST /v1/inventory/items: an item's master data, once. An
// item stocked in before it was defined keeps its stock.
func (s *Server) defineItem(w http.ResponseWriter, r *http.Request) {
	if err := s.mustKeepStock(r); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	var spec houqin.ItemSpec
	if err := decode(r, &spec); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	if err := spec.Validate(); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	body, err := s.writeItem(r, spec.Name, func(st houqin.ItemState) (houqin.EventData, error) {
		if st.Defined {
			return nil, houqin.Errorf(houqin.ECONFLICT, "name: item %q is already defined (as %q); change it with PATCH /v1/inventory/items/%s", spec.Name, st.Spec.Name, houqin.ItemSlug(spec.Name))
		}
		return houqin.ItemDefined{Item: spec}, nil
	})
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, body)
}

// updateItem is PATCH /v1/inventory/items/{item}: the fields given replace
// the item's (a JSON merge of the top-level fields); the name never changes.
func (s *Server) updateItem(w http.ResponseWriter, r *http.Request) {
	if err := s.mustKeepStock(r); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		s.problems.Error(w, r, decodeErr(err))
		return
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		s.problems.Error(w, r, houqin.Errorf(houqin.EINVALID, "body: a JSON object is required"))
		return
	}
	if len(fields) == 0 {
		s.problems.Error(w, r, houqin.Errorf(houqin.EINVALID, "body: name at least one field to change"))
		return
	}
	name := chi.URLParam(r, "item")
	body, err := s.writeItem(r, name, func(st houqin.ItemState) (houqin.EventData, error) {
		if !st.Defined {
			return nil, houqin.Errorf(houqin.ENOTFOUND, "item: no inventory item %q is defined", name)
		}
		spec := st.Spec
		if _, ok := fields["department_quotas"]; ok {
			spec.DepartmentQuotas = nil // replaced, not merged
		}
		req, _ := http.NewRequest(http.MethodPatch, "/", bytes.NewReader(raw))
		if err := decode(req, &spec); err != nil {
			return nil, err
		}
		if spec.Name != st.Spec.Name {
			return nil, houqin.Errorf(houqin.EINVALID, "name: an item's name is its identity and never changes (%q)", st.Spec.Name)
		}
		if err := spec.Validate(); err != nil {
			return nil, err
		}
		var changed []string
		for k := range fields {
			changed = append(changed, k)
		}
		slices.Sort(changed)
		return houqin.ItemUpdated{Item: spec, Changed: changed}, nil
	})
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// writeItem appends the event next returns for the item's current state at
// the stream's exact version, reading again when someone else wrote first.
func (s *Server) writeItem(r *http.Request, name string, next func(houqin.ItemState) (houqin.EventData, error)) (itemBody, error) {
	ctx, who := r.Context(), identity(r)
	for range maxItemWrites {
		st, err := houqin.ReadItem(ctx, s.cfg.Store, name)
		if err != nil {
			return itemBody{}, err
		}
		data, err := next(st)
		if err != nil {
			return itemBody{}, err
		}
		e, err := houqin.NewEvent(uuid.NewString(), data, houqin.Metadata{Actor: who.UserID, OccurredAt: s.cfg.Now()})
		if err != nil {
			return itemBody{}, err
		}
		stored, err := s.cfg.Store.Append(ctx, houqin.InventoryStream(name), st.Version, e)
		if houqin.ErrorCode(err) == houqin.ECONFLICT {
			continue
		}
		if err != nil {
			return itemBody{}, err
		}
		_ = st.Apply(stored[0])
		return itemBody{Item: st.Spec, Slug: houqin.ItemSlug(name), OnHand: st.OnHand, Version: stored[0].Version, Position: stored[0].Position}, nil
	}
	return itemBody{}, houqin.Errorf(houqin.EUNAVAILABLE, "item: %q is being changed by others; try again", name)
}

// itemDetail is GET /v1/inventory/items/{item}: the item and its movements.
type itemDetail struct {
	projections.StockRow
	Spec      *houqin.ItemSpec       `json:"spec,omitempty"`
	Movements []projections.Movement `json:"movements"`
}

func (s *Server) getItem(w http.ResponseWriter, r *http.Request) {
	if err := s.waitMinPosition(r); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	ctx, name := r.Context(), chi.URLParam(r, "item")
	row, err := projections.GetItem(ctx, s.cfg.ReadModels, name)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	st, err := houqin.ReadItem(ctx, s.cfg.Store, name)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	moves, err := projections.ListMovements(ctx, s.cfg.ReadModels, projections.MovementFilter{Item: name})
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	d := itemDetail{StockRow: row, Movements: moves}
	if st.Defined {
		d.Spec = &st.Spec
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) listInventory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	err := oneOf("below_reorder", q.Get("below_reorder"), "true", "false")
	if err == nil {
		err = s.waitMinPosition(r)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	items, err := projections.ListInventory(r.Context(), s.cfg.ReadModels)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	if v := q.Get("below_reorder"); v != "" {
		items = slices.DeleteFunc(items, func(i projections.StockRow) bool { return i.BelowReorder != (v == "true") })
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "as_of": s.cfg.Now().UTC().Format(time.RFC3339)})
}

// readItems reads the current state of each named item from the event
// store (not the read model: the terms of a process are fixed on facts).
func (s *Server) readItems(r *http.Request, names []string) ([]houqin.ItemState, error) {
	out := make([]houqin.ItemState, len(names))
	for i, n := range names {
		st, err := houqin.ReadItem(r.Context(), s.cfg.Store, n)
		if err != nil {
			return nil, err
		}
		out[i] = st
	}
	return out, nil
}

// issueRequest decodes and checks the body of POST /v1/inventory/issues
// for requester: the department defaults to theirs and may be no other;
// every item must be defined and in stock now. Starting an issue and
// previewing one share it.
func (s *Server) issueRequest(r *http.Request, requester string) (houqin.IssueRequest, []houqin.IssueTerms, error) {
	var req houqin.IssueRequest
	if err := decode(r, &req); err != nil {
		return req, nil, err
	}
	user, err := s.cfg.Org.User(requester)
	if err != nil {
		return req, nil, err
	}
	if req.Department == "" {
		req.Department = user.Department
	}
	if err := req.Validate(); err != nil {
		return req, nil, err
	}
	if req.Department != user.Department {
		return req, nil, houqin.Errorf(houqin.EFORBIDDEN, "department: %s belongs to %s and may not ask for %s", requester, user.Department, req.Department)
	}
	names := make([]string, len(req.Items))
	for i, l := range req.Items {
		names[i] = l.Item
	}
	items, err := s.readItems(r, names)
	if err != nil {
		return req, nil, err
	}
	terms, err := req.Terms(items)
	return req, terms, err
}

// startIssue is POST /v1/inventory/issues: a member of a department asks
// the warehouse for goods (领用); lines beyond the department's quota need
// approval.
func (s *Server) startIssue(w http.ResponseWriter, r *http.Request) {
	who := identity(r)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.problems.Error(w, r, decodeErr(err))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	req, terms, err := s.issueRequest(r, who.UserID)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	policy, err := s.kindPolicy(r, houqin.KindIssue, houqin.IssueFacts(req, terms, who.UserID))
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	// The warehouse hands out; never to itself: a warehouse keeper's own
	// request goes to logistics staff.
	warehouse := s.counters(who.UserID)
	if len(warehouse) == 0 {
		s.problems.Error(w, r, houqin.Errorf(houqin.ENOTALLOWED, "warehouse: nobody but %s could hand the goods out", who.UserID))
		return
	}
	s.startProcess(w, r, body, "IS", workflows.IssueID, houqin.KindIssue, workflows.Issue, func(id string) any {
		return workflows.IssueInput{ProcessID: id, Requester: who.UserID, Request: req, Lines: terms,
			Policy: policy, PolicyHash: policy.Hash(), Warehouse: warehouse}
	})
}

// startStocktake is POST /v1/inventory/stocktakes: the counts of a
// stocktake (盘点), compared with the stock when it starts.
func (s *Server) startStocktake(w http.ResponseWriter, r *http.Request) {
	who := identity(r)
	if err := s.mustKeepStock(r); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.problems.Error(w, r, decodeErr(err))
		return
	}
	var req houqin.StocktakeRequest
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := decode(r, &req); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	if err := req.Validate(); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	names := make([]string, len(req.Counts))
	for i, c := range req.Counts {
		names[i] = c.Item
	}
	items, err := s.readItems(r, names)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	lines, err := houqin.StocktakeLines(req, items)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	policy, err := s.kindPolicy(r, houqin.KindStocktake, houqin.StocktakeFacts(lines, who.UserID))
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	s.startProcess(w, r, body, "ST", workflows.StocktakeID, houqin.KindStocktake, workflows.Stocktake, func(id string) any {
		return workflows.StocktakeInput{ProcessID: id, Requester: who.UserID, Request: req, Policy: policy, PolicyHash: policy.Hash()}
	})
}

// kindPolicy returns the policy of kind, having checked that its route
// resolves for the caller now: a request nobody could approve is refused
// before a process exists.
func (s *Server) kindPolicy(r *http.Request, kind houqin.ProcessKind, facts houqin.Facts) (houqin.KindPolicy, error) {
	if s.cfg.Policy == nil {
		return houqin.KindPolicy{}, houqin.Errorf(houqin.EUNAVAILABLE, "policy: no approval policy is configured")
	}
	policy, err := s.cfg.Policy.Kind(kind)
	if err != nil {
		return houqin.KindPolicy{}, err
	}
	if _, err := (houqin.Resolver{Org: s.cfg.Org}).Route(policy, identity(r).UserID, facts, s.cfg.Now()); err != nil {
		return houqin.KindPolicy{}, err
	}
	return policy, nil
}

// inventoryReport is GET /v1/reports/inventory?format=json|csv|xlsx&from=
// &to=&lang=zh-CN|en&table=items|movements: the inventory table (库存管理表)
// and the movements from the start of day from to the end of day to, both
// dates YYYY-MM-DD in China Standard Time and optional.
func (s *Server) inventoryReport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	day := func(name string, plus int) (time.Time, error) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.ParseInLocation(time.DateOnly, v, houqin.BusinessZone)
		if err != nil {
			return time.Time{}, houqin.Errorf(houqin.EINVALID, "%s: must be a date YYYY-MM-DD, got %q", name, v)
		}
		return t.AddDate(0, 0, plus), nil
	}
	from, err := day("from", 0)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	to, err := day("to", 1)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		s.problems.Error(w, r, houqin.Errorf(houqin.EINVALID, "to: must not be before from"))
		return
	}
	if err := s.waitMinPosition(r); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	items, err := projections.ListInventory(r.Context(), s.cfg.ReadModels)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	moves, err := projections.ListMovements(r.Context(), s.cfg.ReadModels, projections.MovementFilter{To: to})
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	rep := reports.NewInventory(items, moves, from, to)
	var buf bytes.Buffer
	if err := rep.Write(&buf, q.Get("format"), q.Get("lang"), q.Get("table")); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	format := cmp.Or(q.Get("format"), "json")
	w.Header().Set("Content-Type", reports.ContentType(format))
	if format != "json" {
		w.Header().Set("Content-Disposition", `attachment; filename="inventory.`+format+`"`)
	}
	w.Write(buf.Bytes())
}

// stocktakeItems answers the items a scheduled stocktake's count task
// counts (GET /v1/inventory/stocktakes/{id}/items), asked of its workflow:
// what the count form lists, each to be counted once. Whoever may read the
// stocktake may read them; a stocktake submitted with its counts has none.
func (s *Server) stocktakeItems(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	err := s.waitMinPosition(r)
	if err == nil {
		err = s.mayRead(r, id)
	}
	if err == nil && !strings.HasPrefix(id, "ST-") {
		err = houqin.Errorf(houqin.ENOTFOUND, "stocktake: %s is not a stocktake", id)
	}
	items := []string{}
	if err == nil {
		err = s.query(r.Context(), id, workflows.QueryCountItems, &items)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"stocktake": id, "items": append([]string{}, items...)})
}

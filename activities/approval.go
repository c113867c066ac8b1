package activities

import (
	"context"
	"slices"
	"time"

	"github.com/houqin/houqin"
)

// ResolveStepInput names a step of an approval route to resolve.
type ResolveStepInput struct {
	Policy    houqin.KindPolicy
	Step      int // index in Policy.Steps
	Requester string
	// Subject is the person the request is for, if not the requester (a
	// trip's traveller when an assistant submits); neither approves.
	Subject string `json:",omitempty"`
	Facts   houqin.Facts
	At      time.Time // the moment of assignment: delegations in force then apply
}

// ResolveStep resolves the approvers of a step against the organisation
// and the delegations in the store (houqin.Resolver.ResolveFor). Its result is
// recorded in the workflow's history, so the route a process took replays
// even after the organisation changed.
//
// A step that resolves nobody even through its fallback is EINVALID.
func (a *Activities) ResolveStep(ctx context.Context, in ResolveStepInput) (houqin.Resolution, error) {
	res, err := a.resolver(ctx).ResolveFor(in.Policy, in.Step, in.Requester, in.Subject, in.Facts, in.At)
	if err != nil {
		return houqin.Resolution{}, temporalError(err)
	}
	return res, nil
}

// ResolveUsersInput names approver rules whose users are copied on a
// process (抄送).
type ResolveUsersInput struct {
	Kind      houqin.ProcessKind
	Rules     []string
	Requester string
	Facts     houqin.Facts
}

// ResolveUsers returns the users the rules name, each once, in the order of
// the rules; users who have left are replaced by their fallback.
func (a *Activities) ResolveUsers(ctx context.Context, in ResolveUsersInput) ([]string, error) {
	var out []string
	r := a.resolver(ctx)
	for _, rule := range in.Rules {
		users, err := r.Users(rule, in.Requester, in.Facts)
		if err != nil {
			return nil, temporalError(err)
		}
		for _, u := range users {
			if !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
	}
	return out, nil
}

// ManagersInput names the assignees of a task being escalated.
type ManagersInput struct {
	Users     []string
	Requester string // never one of the managers returned
	Subject   string `json:",omitempty"` // the person the request is for; never returned either
}

// Managers returns the direct manager of each user, each once, skipping
// users at the top of the chain, the requester and the subject; managers who have left
// are replaced by their fallback.
func (a *Activities) Managers(ctx context.Context, in ManagersInput) ([]string, error) {
	var out []string
	r := a.resolver(ctx)
	for _, u := range in.Users {
		m, ok := r.Manager(u)
		if ok && m != in.Requester && (in.Subject == "" || m != in.Subject) && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// Strangers returns the users of ids the organisation does not have, or
// who have left, in the order given.
func (a *Activities) Strangers(ctx context.Context, ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		if u, err := a.Org.User(id); err != nil || u.Left {
			out = append(out, id)
		}
	}
	return out, nil
}

func (a *Activities) resolver(ctx context.Context) houqin.Resolver {
	r := houqin.Resolver{Org: a.Org}
	if a.Store != nil {
		r.Delegation = houqin.DelegationsIn(ctx, a.Store)
	}
	return r
}

// TakeNumberInput names a sequence and the caller taking a number from it.
type TakeNumberInput struct {
	Sequence string // e.g. "IN-2026"
	Key      string // the caller's identity, e.g. its workflow ID: a retry takes the same number
}

// TakeNumber takes the next number of a sequence (stream sequence-<name>),
// once per key: the event ID derives from the key, so a retried activity
// finds its own event and returns its number again.
func (a *Activities) TakeNumber(ctx context.Context, in TakeNumberInput) (int64, error) {
	if in.Sequence == "" || in.Key == "" {
		return 0, temporalError(houqin.Errorf(houqin.EINVALID, "sequence: a sequence and a key are required"))
	}
	e := houqin.Event{ID: houqin.EventID("sequence", in.Sequence, in.Key), Type: "sequence.number_taken",
		Data: []byte(`{}`), Meta: houqin.Metadata{Actor: "system", CorrelationID: in.Key}}
	stored, err := a.Store.Append(ctx, "sequence-"+in.Sequence, houqin.ExpectAny, a.stamp(e))
	if err != nil {
		return 0, temporalError(err)
	}
	return stored[0].Version + 1, nil
}

package sqlite_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/storetest"
)

// FuzzAppend appends fuzzed events to a real SQLite store. Every outcome
// must be one of: EINVALID or ECONFLICT with nothing written, or success
// with the events read back exactly and their hash chain intact.
func FuzzAppend(f *testing.F) {
	s := MustOpenEventStore(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, stream string, expected int64, typ string, data []byte, actor string) {
		e := storetest.NewEvents(1)[0]
		e.Type, e.Data, e.Meta.Actor = typ, json.RawMessage(data), actor
		headBefore, err := s.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.Append(ctx, stream, expected, e)
		switch houqin.ErrorCode(err) {
		case houqin.EINVALID, houqin.ECONFLICT:
			if headAfter, _ := s.Head(ctx); headAfter != headBefore {
				t.Fatalf("failed append (%v) moved the head from %d to %d", err, headBefore, headAfter)
			}
			return
		case "":
		default:
			t.Fatalf("Append(%q, %d, type %q) = %v: want success, EINVALID or ECONFLICT", stream, expected, typ, err)
		}
		got, err := s.ReadStream(ctx, stream, 0, houqin.Forward, 100_000)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(out[0], got[len(got)-1]); diff != "" {
			t.Fatalf("read back differs (-appended +read):\n%s", diff)
		}
		if err := houqin.Verify(got); err != nil {
			t.Fatal(err)
		}
	})
}

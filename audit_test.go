package houqin_test

import (
	"testing"
	"time"

	"github.com/houqin/houqin"
)

func TestAccessStream(t *testing.T) {
	at := time.Date(2026, 11, 26, 1, 30, 0, 0, time.FixedZone("CST", 8*3600)) // 2026-11-25 17:30 UTC
	if got := houqin.AccessStream(at); got != "audit-access-2026-11-25" {
		t.Fatalf("AccessStream = %q, want the UTC day", got)
	}
	if _, err := houqin.NewEvent(houqin.EventID("x"), houqin.AuditAccessed{User: "huang.xin"}, houqin.Metadata{}); err != nil {
		t.Fatal(err)
	}
}

// TestAnchorDigest pins the digest format: changing it would make every
// stored anchor look altered. It must not depend on the order of heads, and
// must change with any field.
func TestAnchorDigest(t *testing.T) {
	a := houqin.AnchorHead{Stream: "procurement-PR-2026-000001", Version: 7, Position: 42, Hash: houqin.Hash{1, 2, 3}}
	b := houqin.AnchorHead{Stream: "inventory-a4-paper", Version: 0, Position: 40, Hash: houqin.Hash{4, 5, 6}}
	// SHA-256("houqin.anchor.v1" ‖ per head in stream order: len‖stream, version, position, len‖hash),
	// recomputed independently.
	const golden = "bf97b5643b2195d4edc9b0f56d542bc84563d34d28859787105e442a9ef93527"
	got := houqin.AnchorDigest([]houqin.AnchorHead{a, b})
	if houqin.AnchorDigest([]houqin.AnchorHead{b, a}).String() != got.String() {
		t.Fatal("digest depends on the order of heads")
	}
	if got.String() != golden {
		t.Fatalf("digest = %s, want %s (the pinned format)", got, golden)
	}
	for name, h := range map[string]houqin.AnchorHead{
		"stream":   {Stream: "procurement-PR-2026-000002", Version: 7, Position: 42, Hash: a.Hash},
		"version":  {Stream: a.Stream, Version: 8, Position: 42, Hash: a.Hash},
		"position": {Stream: a.Stream, Version: 7, Position: 43, Hash: a.Hash},
		"hash":     {Stream: a.Stream, Version: 7, Position: 42, Hash: houqin.Hash{1, 2, 4}},
	} {
		if houqin.AnchorDigest([]houqin.AnchorHead{h, b}).String() == got.String() {
			t.Errorf("changing %s leaves the digest unchanged", name)
		}
	}
	if houqin.AnchorDigest(nil).String() == houqin.AnchorDigest([]houqin.AnchorHead{b}).String() {
		t.Error("a removed head leaves the digest unchanged")
	}
}

package houqin

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxSlugLen bounds the readable part of an item slug.
const maxSlugLen = 64

// InventoryStream returns the stream of an inventory item, a shared
// aggregate written by every process that stocks the item in or out:
// "inventory-" + ItemSlug(item).
func InventoryStream(item string) string { return "inventory-" + ItemSlug(item) }

// ItemSlug returns the identity of an inventory item as it appears in a
// stream name: the name in lowercase ASCII letters and digits, other runs of
// runs of ' ', '-' and '_' as one '-' ("A4 paper" → "a4-paper"). A name with
// any other character, or longer than 64 bytes, keeps its identity with a
// suffix of 8 hex digits of the SHA-256 of its lowercased, space-normalised
// form ("A4 打印纸" → "a4-" + hash, "C++ book" → "c-book-" + hash). Names
// differing only in case or in those separators are the same item.
func ItemSlug(name string) string {
	norm := strings.ToLower(strings.Join(strings.Fields(name), " "))
	var b strings.Builder
	lossy, dash := false, false
	for _, r := range norm {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		case r == ' ' || r == '-' || r == '_':
			dash = true
		default:
			lossy, dash = true, true
		}
	}
	s := b.String()
	if len(s) > maxSlugLen {
		s, lossy = strings.TrimRight(s[:maxSlugLen], "-"), true
	}
	if lossy || s == "" {
		sum := sha256.Sum256([]byte(norm))
		if s != "" {
			s += "-"
		}
		s += hex.EncodeToString(sum[:4])
	}
	return s
}

// InventoryStockedIn records goods put into stock by a process, on the
// item's inventory stream.
type InventoryStockedIn struct {
	Item      string `json:"item"`
	Unit      string `json:"unit"`
	Quantity  int64  `json:"quantity"`
	ProcessID string `json:"process_id"`
}

// EventType implements EventData.
func (InventoryStockedIn) EventType() string { return "inventory.stocked_in" }

func init() {
	RegisterEventType(InventoryStockedIn{})
}

package houqin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// CheckText refuses, with an EINVALID naming field, a text that holds a
// character no field of houqin may carry: a control character other than
// tab, line feed and carriage return (U+0000–U+001F, U+007F–U+009F), or
// the line and paragraph separators U+2028 and U+2029. Such characters are
// invisible in every view, break documents and exports (PostgreSQL's text
// and jsonb refuse U+0000 outright), and no person types them.
func CheckText(field, s string) error {
	for i, r := range s {
		if forbiddenRune(r) {
			return Errorf(EINVALID, "%s: control character %U at byte %d is not allowed in text", field, r, i)
		}
	}
	return nil
}

// forbiddenRune reports whether r may appear in no text (see CheckText).
func forbiddenRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20, r >= 0x7f && r <= 0x9f, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// CheckJSONText applies CheckText to every string of a JSON document, keys
// included, and names the first offender by its path (items[0].name,
// data.lines[1].name). A document that is not JSON passes: decoding it
// reports that.
func CheckJSONText(doc []byte) error {
	if !hasControl(doc) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	return checkValue("", v)
}

// hasControl reports, cheaply, whether a JSON document may hold a forbidden
// character: an escape (\u0000), a raw control byte, or the bytes of a
// C1 control or of U+2028/2029.
func hasControl(doc []byte) bool {
	for _, b := range doc {
		if b == '\\' || b < 0x20 || b == 0x7f || b == 0xc2 || b == 0xe2 {
			return true
		}
	}
	return false
}

func checkValue(field string, v any) error {
	switch v := v.(type) {
	case string:
		return CheckText(field, v)
	case []any:
		for i, e := range v {
			if err := checkValue(textField(field, i), e); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if err := CheckText(textField(field, strconv.Quote(k)), k); err != nil {
				return err
			}
			if err := checkValue(textField(field, k), v[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// textField names an element of a JSON document for CheckText: a key of an
// object (items[0].name) or an index of an array.
func textField(parent string, key any) string {
	switch k := key.(type) {
	case int:
		return fmt.Sprintf("%s[%d]", parent, k)
	case string:
		if parent == "" {
			return k
		}
		return parent + "." + k
	}
	return parent
}

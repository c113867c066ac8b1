package houqin_test

import (
	"strings"
	"testing"

	"github.com/houqin/houqin"
)

func TestCheckJSONText(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // the error's message; "" = accepted
	}{
		{"plain Chinese", `{"reason":"Q1 打印纸","items":[{"name":"A4 纸"}]}`, ""},
		{"tab and line breaks", `{"reason":"第一行\n第二行\r\n\t缩进"}`, ""},
		{"escaped quotes and slashes", `{"reason":"\"引号\" \\ \/"}`, ""},
		{"NUL escaped", `{"reason":"a\u0000b"}`, `reason: control character U+0000 at byte 1 is not allowed in text`},
		{"bell in an item", `{"items":[{"name":"ok"},{"name":"x\u0007"}]}`, `items[1].name: control character U+0007`},
		{"escape in task data", `{"data":{"lines":[{"name":"\u001b[31m"}]}}`, `data.lines[0].name: control character U+001B`},
		{"C1 control", `{"comment":"\u0085"}`, `comment: control character U+0085`},
		{"DEL", `{"comment":"a\u007f"}`, `comment: control character U+007F`},
		{"line separator", "{\"comment\":\"a\u2028b\"}", `comment: control character U+2028`},
		{"paragraph separator escaped", `{"comment":"\u2029"}`, `comment: control character U+2029`},
		{"in a key", `{"data":{"a\u0000":1}}`, `data."a\x00": control character U+0000`},
		{"not JSON is left to the decoder", `{"reason":`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := houqin.CheckJSONText([]byte(tt.doc))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("accepted, want %q", tt.want)
			case tt.want != "" && (houqin.ErrorCode(err) != houqin.EINVALID || !strings.HasPrefix(houqin.ErrorMessage(err), tt.want)):
				t.Errorf("got %s %q, want EINVALID %q…", houqin.ErrorCode(err), houqin.ErrorMessage(err), tt.want)
			}
		})
	}
}

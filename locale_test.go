package houqin

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/language"
)

// TestLocalize: a message is said in Chinese from the format it was made
// from, with the same arguments, reordered where Chinese orders them
// otherwise; a field prefix a caller added stays; English, and a message
// without a translation, stay as they are.
func TestLocalize(t *testing.T) {
	zh := language.SimplifiedChinese
	for _, c := range []struct{ msg, want string }{
		{ErrorMessage(Errorf(EINVALID, "comment: a reason is required to reject")), "comment：驳回须填写理由"},
		{ErrorMessage(Errorf(EINVALID, "lines[%d].quantity: must be positive, got %d", 1, -2)), "lines[1].quantity：须为正数，收到 -2"},
		{ErrorMessage(Errorf(EINVALID, "amount: must be positive, got %d", 0)), "amount：须为正数，收到 0"},
		{ErrorMessage(Errorf(EINVALID, "lines[%d].quantity: %d of %q exceed the %d outstanding", 0, 30, "A4 paper", 20)),
			`lines[0].quantity："A4 paper" 到货 30，超过待到货的 20`},
		{"data." + ErrorMessage(Errorf(EINVALID, "supplier: required")), "data.supplier：必填（供应商）"},
		{ErrorMessage(Errorf(EINVALID, "%s.justification: %s is above the %s cap of %s in %s; say why", "lines[0]", "¥200.00", "per_diem", "¥150.00", "北京")),
			"lines[0].justification：¥200.00 超过 北京 的 per_diem 标准 ¥150.00，请说明原因"},
		{"nothing: a message no catalog has", "nothing: a message no catalog has"},
	} {
		if got := Localize(c.msg, zh); got != c.want {
			t.Errorf("Localize(%q) = %q, want %q", c.msg, got, c.want)
		}
		if got := Localize(c.msg, language.English); got != c.msg {
			t.Errorf("Localize(%q, en) = %q, want it unchanged", c.msg, got)
		}
	}
}

func TestLanguage(t *testing.T) {
	for header, want := range map[string]language.Tag{
		"zh-CN,zh;q=0.9,en;q=0.8": language.SimplifiedChinese, "zh-CN": language.SimplifiedChinese,
		"en-US,en;q=0.9": language.English, "": language.English, "fr-FR": language.English, "en;q=0.9,zh-CN": language.SimplifiedChinese,
		"((": language.English,
	} {
		if got := Language(header); got != want {
			t.Errorf("Language(%q) = %v, want %v", header, got, want)
		}
	}
}

// TestCatalogMatchesTheCode keeps locale/zh-CN.yaml true to the code:
// every format it translates is one some Errorf still makes (a changed
// message would silently fall back to English), and a bad entry — an
// argument left out, one that does not exist, a format of nothing but
// verbs — fails to parse. It logs how many of the code's formats are
// translated.
func TestCatalogMatchesTheCode(t *testing.T) {
	c, err := parseCatalog("locale/zh-CN.yaml", zhCatalog)
	if err != nil {
		t.Fatal(err)
	}
	formats := map[string]bool{}
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == "node_modules" || d.Name() == "web" || strings.HasPrefix(d.Name(), ".")) && path != ".":
			return filepath.SkipDir
		case d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go"):
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Errorf" || isIdent(call.Fun, "Errorf") {
				if lit, ok := call.Args[1].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil {
						formats[s] = true
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range c {
		if !formats[m.english] {
			t.Errorf("locale/zh-CN.yaml translates %q, which no Errorf makes", m.english)
		}
	}
	t.Logf("%d of the code's %d formats are translated", len(c), len(formats))
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func TestParseCatalogRefusesBadEntries(t *testing.T) {
	for src, want := range map[string]string{
		`"ab: %s is %d": "ab：%s"`:           "leaves out argument 2",
		`"ab: %s": "ab：%[2]s"`:              "takes argument 2",
		`"%s: %s": "%s：%s"`:                 "says nothing but its verbs",
		`"bc: got %q, want %q": "bc：%q %q"`: "",
	} {
		_, err := parseCatalog("test.yaml", []byte(src))
		switch {
		case want == "" && err != nil:
			t.Errorf("parseCatalog(%s) = %v, want it accepted", src, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("parseCatalog(%s) = %v, want %q", src, err, want)
		}
	}
}

package houqin

import (
	_ "embed"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"golang.org/x/text/language"
)

// The messages of *Error are English, made by Errorf from a format and its
// arguments; the API says them in the language a request asks for
// (Accept-Language). A catalog maps each English format to its
// translation (locale/zh-CN.yaml); Localize finds the format a message was
// made from by matching it, and puts the same arguments — field names,
// amounts, IDs, as they were formatted — into the translation. A message
// whose format has no translation stays English: the client shows what its
// code means in the user's language beside it.
//
// Matching the made message, not carrying the format along, works for
// every path an error takes, a workflow's update validator across
// Temporal included, where only the message survives.

//go:embed locale/zh-CN.yaml
var zhCatalog []byte

// Languages are the languages houqin speaks, the first the default.
var Languages = []language.Tag{language.English, language.SimplifiedChinese}

var languages = language.NewMatcher(Languages)

// Language returns which of Languages an Accept-Language header asks for
// most: English when it asks for none of them or cannot be read.
func Language(acceptLanguage string) language.Tag {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return language.English
	}
	_, i, conf := languages.Match(tags...)
	if conf == language.No {
		return language.English
	}
	return Languages[i]
}

// Localize returns msg in lang: its translation if the catalog of lang
// has the format msg was made from, else msg. A message under a field
// prefix a caller added (data.lines[0].quantity: …, request.title: …) is
// translated without it and keeps it.
func Localize(msg string, lang language.Tag) string {
	if lang != language.SimplifiedChinese {
		return msg
	}
	c, err := zhMessages()
	if err != nil {
		return msg
	}
	if out, ok := c.translate(msg); ok {
		return out
	}
	if m := fieldPrefix.FindStringSubmatch(msg); m != nil {
		if out, ok := c.translate(m[2]); ok {
			return m[1] + out
		}
	}
	return msg
}

// fieldPrefix is the prefix a caller adds to a nested value's message.
var fieldPrefix = regexp.MustCompile(`^((?:data|request)\.)(.+)$`)

// message is one format of the catalog, ready to match.
type message struct {
	english string         // the format, as in the code
	match   *regexp.Regexp // the messages it makes
	literal int            // how much of it is not a verb: the more, the more specific
	parts   []string       // the translation around its verbs
	args    []int          // the argument each verb of the translation takes (0-based)
}

type catalog []message

// translate finds the most specific format that made msg.
func (c catalog) translate(msg string) (string, bool) {
	for _, m := range c {
		got := m.match.FindStringSubmatch(msg)
		if got == nil {
			continue
		}
		var b strings.Builder
		for i, p := range m.parts {
			b.WriteString(p)
			if i < len(m.args) {
				b.WriteString(got[1+m.args[i]])
			}
		}
		return b.String(), true
	}
	return "", false
}

// verb is a fmt verb with its flags, width and precision, or an explicit
// argument index in a translation (%[2]s).
var verb = regexp.MustCompile(`%(?:\[(\d+)\])?[-+# 0]*\d*(?:\.\d+)?[sdqvxfTU]`)

// parseCatalog reads a catalog: a YAML mapping of English formats to their
// translations, each verb of a translation taking the next argument or the
// one it names (%[2]s). A translation must use every argument of its
// format, and a format must say more than its verbs.
func parseCatalog(name string, src []byte) (catalog, error) {
	var raw map[string]string
	if err := yaml.Unmarshal(src, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var out catalog
	for _, english := range slices.Sorted(maps.Keys(raw)) {
		m, err := parseMessage(english, raw[english])
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", name, english, err)
		}
		out = append(out, m)
	}
	// The most specific first: "%s.note: required, what was done" before
	// "%s: required".
	slices.SortStableFunc(out, func(a, b message) int { return b.literal - a.literal })
	return out, nil
}

func parseMessage(english, translated string) (message, error) {
	verbs := verb.FindAllStringIndex(english, -1)
	var pattern strings.Builder
	pattern.WriteString("^")
	last := 0
	for _, v := range verbs {
		pattern.WriteString(regexp.QuoteMeta(english[last:v[0]]))
		pattern.WriteString("(.*?)")
		last = v[1]
	}
	pattern.WriteString(regexp.QuoteMeta(english[last:]) + "$")
	literal := len(english) - func() (n int) {
		for _, v := range verbs {
			n += v[1] - v[0]
		}
		return n
	}()
	if literal < 4 {
		return message{}, fmt.Errorf("says nothing but its verbs; it would match any message")
	}
	m := message{english: english, match: regexp.MustCompile(pattern.String()), literal: literal}
	used := make([]bool, len(verbs))
	last, next := 0, 0
	for _, v := range verb.FindAllStringSubmatchIndex(translated, -1) {
		m.parts = append(m.parts, translated[last:v[0]])
		arg := next
		if v[2] >= 0 {
			n, _ := strconv.Atoi(translated[v[2]:v[3]])
			arg = n - 1
		}
		if arg < 0 || arg >= len(verbs) {
			return message{}, fmt.Errorf("the translation %q takes argument %d; the format has %d", translated, arg+1, len(verbs))
		}
		m.args, used[arg], next, last = append(m.args, arg), true, arg+1, v[1]
	}
	m.parts = append(m.parts, translated[last:])
	if i := slices.Index(used, false); i >= 0 {
		return message{}, fmt.Errorf("the translation %q leaves out argument %d", translated, i+1)
	}
	return m, nil
}

var zhMessages = sync.OnceValues(func() (catalog, error) {
	return parseCatalog("locale/zh-CN.yaml", zhCatalog)
})

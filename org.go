package houqin

import (
	"bytes"
	"cmp"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

// User is a person (or system account) who starts processes and acts on
// tasks.
type User struct {
	ID         string   // e.g. "wang.fang": lowercase letters, digits and "._-"
	Name       string   // display name, e.g. "王芳"
	NameEn     string   // name in Latin script, e.g. "Wang Fang"
	Department string   // department ID, e.g. "MKT"
	Roles      []string // e.g. ["dept_head", "finance"], sorted
	Manager    string   // user ID of the direct manager; "" = none (top of the chain)
	External   bool     // works for an outside company (the department is external)
	Left       bool     // has left the organisation: never assigned a task; their Fallback (or manager) is
	Fallback   string   // user ID who takes over this user's approvals once they have left; "" = the manager
	Email      string   // where email notifications go; "" = none (docs/NOTIFICATIONS.md)
	Lang       string   // the language of their notifications: "zh-CN" (the default) or "en"
	// IM are their user IDs in the group robots' apps, by app (wecom,
	// dingtalk, feishu): a robot @-mentions them by it.
	IM map[string]string
}

// HasRole reports whether u has role.
func (u User) HasRole(role string) bool { return slices.Contains(u.Roles, role) }

// Department is a unit of the organisation, led by one head.
type Department struct {
	ID       string // e.g. "MKT"
	Name     string // e.g. "市场部"
	NameEn   string // e.g. "Marketing"
	Head     string // user ID of the department head
	External bool   // an outside company, e.g. the property management company
}

// Org is the organisation directory: departments, users, roles and who
// manages whom. It is immutable after ParseOrg and safe for concurrent use;
// every method returns copies.
type Org struct {
	users []User       // sorted by ID
	depts []Department // sorted by ID
	user  map[string]int
	dept  map[string]int
}

// Identity is the authenticated user of a request, as the API knows it.
type Identity struct {
	UserID     string   `json:"user_id"`
	Name       string   `json:"name"`
	Department string   `json:"department"`
	Roles      []string `json:"roles"`
}

// HasRole reports whether the identity has role.
func (i Identity) HasRole(role string) bool { return slices.Contains(i.Roles, role) }

// orgFile is the YAML form of an Org (config/org.yaml).
type orgFile struct {
	Departments []struct {
		ID       string `yaml:"id"`
		Name     string `yaml:"name"`
		NameEn   string `yaml:"name_en"`
		Head     string `yaml:"head"`
		External bool   `yaml:"external"`
	} `yaml:"departments"`
	Users []struct {
		ID         string            `yaml:"id"`
		Name       string            `yaml:"name"`
		NameEn     string            `yaml:"name_en"`
		Department string            `yaml:"department"`
		Roles      []string          `yaml:"roles"`
		Manager    *string           `yaml:"manager"` // absent: the department head; "": none
		Left       bool              `yaml:"left"`
		Fallback   string            `yaml:"fallback"`
		Email      string            `yaml:"email"`
		Lang       string            `yaml:"lang"`
		IM         map[string]string `yaml:"im"`
	} `yaml:"users"`
}

// ParseOrg parses and validates an organisation in YAML (the format of
// config/org.yaml). A user's manager defaults to the head of their
// department; a department head names their manager explicitly, and
// `manager: ""` marks the top of the chain.
//
// Returns EINVALID naming the field for malformed YAML, unknown fields,
// missing or duplicate IDs, unknown departments or managers, a department
// without a head or headed by an outsider, and manager cycles.
func ParseOrg(b []byte) (*Org, error) {
	var f orgFile
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, Errorf(EINVALID, "org: empty document")
	}
	if err := yaml.UnmarshalWithOptions(b, &f, yaml.Strict()); err != nil {
		return nil, Errorf(EINVALID, "org: %s", yaml.FormatError(err, false, false))
	}
	if len(f.Departments) == 0 {
		return nil, Errorf(EINVALID, "departments: required")
	}
	if len(f.Users) == 0 {
		return nil, Errorf(EINVALID, "users: required")
	}

	o := &Org{user: map[string]int{}, dept: map[string]int{}}
	deptAt := map[string]int{} // department ID → index in the file, for messages
	for i, d := range f.Departments {
		field := fmt.Sprintf("departments[%d]", i)
		switch {
		case d.ID == "":
			return nil, Errorf(EINVALID, "%s.id: required", field)
		case !isDeptID(d.ID):
			return nil, Errorf(EINVALID, "%s.id: %q must be at most 32 uppercase letters and digits, starting with a letter", field, d.ID)
		case d.Name == "":
			return nil, Errorf(EINVALID, "%s.name: required", field)
		case d.Head == "":
			return nil, Errorf(EINVALID, "%s.head: required", field)
		}
		if j, ok := deptAt[d.ID]; ok {
			return nil, Errorf(EINVALID, "%s.id: duplicate department %q (also departments[%d])", field, d.ID, j)
		}
		deptAt[d.ID] = i
		o.depts = append(o.depts, Department{ID: d.ID, Name: d.Name, NameEn: d.NameEn, Head: d.Head, External: d.External})
	}

	userAt := map[string]int{}
	for i, u := range f.Users {
		field := fmt.Sprintf("users[%d]", i)
		switch {
		case u.ID == "":
			return nil, Errorf(EINVALID, "%s.id: required", field)
		case !isUserID(u.ID):
			return nil, Errorf(EINVALID, "%s.id: %q must be at most 64 lowercase letters, digits and \"._-\", starting with a letter or digit", field, u.ID)
		case u.Name == "":
			return nil, Errorf(EINVALID, "%s.name: required", field)
		case u.Department == "":
			return nil, Errorf(EINVALID, "%s.department: required", field)
		case u.Email != "" && !isEmail(u.Email):
			return nil, Errorf(EINVALID, "%s.email: %q is not an address such as wang.fang@example.com", field, u.Email)
		case u.Lang != "" && u.Lang != "zh-CN" && u.Lang != "en":
			return nil, Errorf(EINVALID, "%s.lang: must be zh-CN or en, got %q", field, u.Lang)
		}
		for app, id := range u.IM {
			if app != "wecom" && app != "dingtalk" && app != "feishu" || strings.TrimSpace(id) == "" || len(id) > 128 {
				return nil, Errorf(EINVALID, "%s.im.%s: an ID of wecom, dingtalk or feishu, 1 to 128 characters", field, app)
			}
		}
		if j, ok := userAt[u.ID]; ok {
			return nil, Errorf(EINVALID, "%s.id: duplicate user %q (also users[%d])", field, u.ID, j)
		}
		userAt[u.ID] = i
		d, ok := deptAt[u.Department]
		if !ok {
			return nil, Errorf(EINVALID, "%s.department: unknown department %q", field, u.Department)
		}
		roles := slices.Clone(u.Roles)
		slices.Sort(roles)
		for j, r := range u.Roles {
			if !isName(r) {
				return nil, Errorf(EINVALID, "%s.roles[%d]: %q must be lowercase letters, digits and '_', starting with a letter", field, j, r)
			}
			if slices.Index(u.Roles, r) != j {
				return nil, Errorf(EINVALID, "%s.roles[%d]: duplicate role %q", field, j, r)
			}
		}
		o.users = append(o.users, User{
			ID: u.ID, Name: u.Name, NameEn: u.NameEn, Department: u.Department,
			Roles: roles, External: f.Departments[d].External, Left: u.Left, Fallback: u.Fallback, Email: u.Email, Lang: u.Lang, IM: u.IM,
		})
	}

	for i, d := range f.Departments {
		j, ok := userAt[d.Head]
		if !ok {
			return nil, Errorf(EINVALID, "departments[%d].head: unknown user %q", i, d.Head)
		}
		if dept := f.Users[j].Department; dept != d.ID {
			return nil, Errorf(EINVALID, "departments[%d].head: user %q belongs to department %q, not %q", i, d.Head, dept, d.ID)
		}
	}
	for i, u := range f.Users {
		field := fmt.Sprintf("users[%d].manager", i)
		head := f.Departments[deptAt[u.Department]].Head
		switch {
		case u.Manager == nil && head == u.ID:
			return nil, Errorf(EINVALID, "%s: required for %q, the head of %s (\"\" for none)", field, u.ID, u.Department)
		case u.Manager == nil:
			o.users[i].Manager = head
		case *u.Manager == u.ID:
			return nil, Errorf(EINVALID, "%s: %q cannot manage themselves", field, u.ID)
		case *u.Manager != "":
			if _, ok := userAt[*u.Manager]; !ok {
				return nil, Errorf(EINVALID, "%s: unknown manager %q", field, *u.Manager)
			}
			o.users[i].Manager = *u.Manager
		}
	}
	for i, u := range f.Users {
		if _, ok := userAt[u.Fallback]; u.Fallback != "" && (!ok || u.Fallback == u.ID) {
			return nil, Errorf(EINVALID, "users[%d].fallback: %q is not another user", i, u.Fallback)
		}
	}
	for i, u := range o.users {
		chain := []string{u.ID}
		for m := u.Manager; m != ""; m = o.users[userAt[m]].Manager {
			chain = append(chain, m)
			if m == u.ID {
				return nil, Errorf(EINVALID, "users[%d].manager: cycle %s", i, strings.Join(chain, " → "))
			}
			if len(chain) > len(o.users) {
				break // a cycle above u; reported from one of its members
			}
		}
	}

	slices.SortFunc(o.users, func(a, b User) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(o.depts, func(a, b Department) int { return strings.Compare(a.ID, b.ID) })
	for i, u := range o.users {
		o.user[u.ID] = i
	}
	for i, d := range o.depts {
		o.dept[d.ID] = i
	}
	return o, nil
}

// User returns the user with an ID, or ENOTFOUND.
func (o *Org) User(id string) (User, error) {
	i, ok := o.user[id]
	if !ok {
		return User{}, Errorf(ENOTFOUND, "user: no user %q", id)
	}
	return cloneUser(o.users[i]), nil
}

// Users returns every user, sorted by ID.
func (o *Org) Users() []User {
	out := make([]User, len(o.users))
	for i, u := range o.users {
		out[i] = cloneUser(u)
	}
	return out
}

// Department returns the department with an ID, or ENOTFOUND.
func (o *Org) Department(id string) (Department, error) {
	i, ok := o.dept[id]
	if !ok {
		return Department{}, Errorf(ENOTFOUND, "department: no department %q", id)
	}
	return o.depts[i], nil
}

// Departments returns every department, sorted by ID.
func (o *Org) Departments() []Department { return slices.Clone(o.depts) }

// DeptHead returns the head of a department, or ENOTFOUND if there is no
// such department.
func (o *Org) DeptHead(dept string) (User, error) {
	d, err := o.Department(dept)
	if err != nil {
		return User{}, err
	}
	return o.User(d.Head)
}

// Manager returns the user levels steps up userID's management chain: 1 is
// the direct manager (the head of the user's department, or for a head the
// manager configured for them), 2 that manager's manager, and so on.
//
// Returns EINVALID if levels < 1, and ENOTFOUND if the user does not exist or
// the chain ends below that level.
func (o *Org) Manager(userID string, levels int) (User, error) {
	if levels < 1 {
		return User{}, Errorf(EINVALID, "levels: must be at least 1, got %d", levels)
	}
	u, err := o.User(userID)
	if err != nil {
		return User{}, err
	}
	for level := 1; level <= levels; level++ {
		if u.Manager == "" {
			return User{}, Errorf(ENOTFOUND, "manager: %q has no manager %d level(s) up; the chain ends at %q", userID, levels, u.ID)
		}
		u = o.users[o.user[u.Manager]]
	}
	return cloneUser(u), nil
}

// HasRole reports whether the user with an ID has role; false for an unknown
// user.
func (o *Org) HasRole(userID, role string) bool {
	i, ok := o.user[userID]
	return ok && o.users[i].HasRole(role)
}

// WithRole returns the users who have role, sorted by ID.
func (o *Org) WithRole(role string) []User {
	var out []User
	for _, u := range o.users {
		if u.HasRole(role) {
			out = append(out, cloneUser(u))
		}
	}
	return out
}

// Doers returns who does the work steps of a request: the users of the
// first of roles that has anyone who has not left and is not excluded —
// the requester and whoever else may not act on the request (separation of
// duties: nobody does the work of their own request). nil if nobody.
func (o *Org) Doers(exclude []string, roles ...string) []string {
	for _, role := range roles {
		var ids []string
		for _, u := range o.WithRole(role) {
			if !u.Left && !slices.Contains(exclude, u.ID) {
				ids = append(ids, u.ID)
			}
		}
		if len(ids) > 0 {
			return ids
		}
	}
	return nil
}

// LogisticsRoles are the roles that do logistics work steps (record a
// purchase order, book a trip), in order: the staff, else the manager.
var LogisticsRoles = []string{"logistics_staff", "logistics_manager"}

// Successor returns who takes over the open tasks of user, who has left
// the organisation: their Fallback, else their manager, followed while
// that one has left too (at most 10 steps). chain is every user passed,
// user first, the successor last. ENOTFOUND if nobody is left to take over.
func (o *Org) Successor(user string) (successor string, chain []string, err error) {
	next := user
	for range 10 {
		u, err := o.User(next)
		if err != nil {
			return "", chain, err
		}
		chain = append(chain, u.ID)
		if !u.Left {
			return u.ID, chain, nil
		}
		next = cmp.Or(u.Fallback, u.Manager)
		if next == "" {
			return "", chain, Errorf(ENOTFOUND, "successor: %s has left and has no fallback or manager", u.ID)
		}
	}
	return "", chain, Errorf(ENOTFOUND, "successor: no one who has not left within 10 steps from %s", user)
}

// ServesLogistics reports whether user does the logistics department's
// work (holds one of LogisticsRoles): their rating of its service would be
// their own, so no satisfaction survey asks them.
func (o *Org) ServesLogistics(user string) bool {
	u, err := o.User(user)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(LogisticsRoles, u.HasRole)
}

// RoleBudgetChargeAny lets its holders charge a department other than
// their own (a coordinator buying for another department); everyone else
// charges their own department's budget.
const RoleBudgetChargeAny = "budget_charge_any"

// CheckCharge reports whether requester may charge the budget of dept,
// naming field in the error: their own department always, another only
// with RoleBudgetChargeAny (EFORBIDDEN); an unknown department is EINVALID.
func (o *Org) CheckCharge(field, requester, dept string) error {
	u, err := o.User(requester)
	if err != nil {
		return Errorf(EFORBIDDEN, "%s: %s is not in the organisation", field, requester)
	}
	if _, err := o.Department(dept); err != nil {
		return Errorf(EINVALID, "%s: unknown department %q", field, dept)
	}
	if dept != u.Department && !u.HasRole(RoleBudgetChargeAny) {
		return Errorf(EFORBIDDEN, "%s: %s charges their own department %s; charging %s needs the role %s",
			field, requester, u.Department, dept, RoleBudgetChargeAny)
	}
	return nil
}

// Identity returns the identity of the user with an ID, or ENOTFOUND.
func (o *Org) Identity(userID string) (Identity, error) {
	u, err := o.User(userID)
	if err != nil {
		return Identity{}, err
	}
	return Identity{UserID: u.ID, Name: u.Name, Department: u.Department, Roles: u.Roles}, nil
}

func cloneUser(u User) User {
	u.Roles = slices.Clone(u.Roles)
	return u
}

// isUserID reports whether s is a user ID: lowercase letters, digits and
// "._-", starting with a letter or digit.
func isUserID(s string) bool {
	if s == "" || len(s) > 64 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// isDeptID reports whether s is a department ID: uppercase letters and
// digits, starting with a letter.
func isDeptID(s string) bool {
	if s == "" || len(s) > 32 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// isEmail reports whether s is a bare email address (no display name).
func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}

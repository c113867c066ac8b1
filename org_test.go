package houqin_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
)

// testOrg is a small organisation: ops (head boss, who has no manager),
// sales (head sam, who reports to boss), and the external vendor company.
const testOrg = `
departments:
  - {id: OPS, name: 运营部, name_en: Operations, head: boss}
  - {id: SALES, name: 销售部, name_en: Sales, head: sam}
  - {id: VEN, name: 供应商, name_en: Vendor, head: vic, external: true}
users:
  - {id: boss, name: 老板, department: OPS, roles: [dept_head, admin], manager: ""}
  - {id: sam, name: 山姆, name_en: Sam, department: SALES, roles: [dept_head], manager: boss}
  - {id: ann, name: 安, name_en: Ann, department: SALES, roles: [staff, driver]}
  - {id: bob, name: 鲍勃, department: SALES, roles: [staff], manager: boss}
  - {id: vic, name: 维克, department: VEN, roles: [vendor], manager: boss}
`

func mustParseOrg(t *testing.T, doc string) *houqin.Org {
	t.Helper()
	o, err := houqin.ParseOrg([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func ids(us []houqin.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}

func TestParseOrg(t *testing.T) {
	o := mustParseOrg(t, testOrg)
	want := []houqin.User{
		{ID: "ann", Name: "安", NameEn: "Ann", Department: "SALES", Roles: []string{"driver", "staff"}, Manager: "sam"},
		{ID: "bob", Name: "鲍勃", Department: "SALES", Roles: []string{"staff"}, Manager: "boss"},
		{ID: "boss", Name: "老板", Department: "OPS", Roles: []string{"admin", "dept_head"}},
		{ID: "sam", Name: "山姆", NameEn: "Sam", Department: "SALES", Roles: []string{"dept_head"}, Manager: "boss"},
		{ID: "vic", Name: "维克", Department: "VEN", Roles: []string{"vendor"}, Manager: "boss", External: true},
	}
	if diff := cmp.Diff(want, o.Users()); diff != "" {
		t.Errorf("Users (-want +got):\n%s", diff)
	}
	wantDepts := []houqin.Department{
		{ID: "OPS", Name: "运营部", NameEn: "Operations", Head: "boss"},
		{ID: "SALES", Name: "销售部", NameEn: "Sales", Head: "sam"},
		{ID: "VEN", Name: "供应商", NameEn: "Vendor", Head: "vic", External: true},
	}
	if diff := cmp.Diff(wantDepts, o.Departments()); diff != "" {
		t.Errorf("Departments (-want +got):\n%s", diff)
	}
}

func TestParseOrgErrors(t *testing.T) {
	const depts = "departments:\n  - {id: OPS, name: 运营部, head: boss}\n"
	const boss = "  - {id: boss, name: 老板, department: OPS, manager: \"\"}\n"
	tests := []struct {
		name string
		doc  string
		want string // the whole EINVALID message
	}{
		{"empty", "  \n", "org: empty document"},
		{"not yaml", "departments: [\n", "org: [1:14] sequence end token ']' not found"},
		{"unknown field", depts + "users:\n  - {id: boss, name: 老板, department: OPS, manager: \"\", phone: x}\n", `org: [4:56] unknown field "phone"`},
		{"bad email", depts + "users:\n  - {id: boss, name: 老板, department: OPS, manager: \"\", email: x}\n", `users[0].email: "x" is not an address such as wang.fang@example.com`},
		{"bad lang", depts + "users:\n  - {id: boss, name: 老板, department: OPS, manager: \"\", lang: fr}\n", `users[0].lang: must be zh-CN or en, got "fr"`},
		{"bad im", depts + "users:\n  - {id: boss, name: 老板, department: OPS, manager: \"\", im: {slack: x}}\n", `users[0].im.slack: an ID of wecom, dingtalk or feishu, 1 to 128 characters`},
		{"wrong shape", "departments: {id: OPS}\n", "org: [1:14] mapping was used where sequence is expected"},
		{"no departments", "users:\n" + boss, "departments: required"},
		{"no users", depts, "users: required"},
		{"department id missing", "departments:\n  - {name: x, head: boss}\nusers:\n" + boss, "departments[0].id: required"},
		{"department id lowercase", "departments:\n  - {id: ops, name: x, head: boss}\nusers:\n" + boss,
			`departments[0].id: "ops" must be at most 32 uppercase letters and digits, starting with a letter`},
		{"department name missing", "departments:\n  - {id: OPS, head: boss}\nusers:\n" + boss, "departments[0].name: required"},
		{"missing head", "departments:\n  - {id: OPS, name: x}\nusers:\n" + boss, "departments[0].head: required"},
		{"duplicate department", depts + "  - {id: OPS, name: y, head: boss}\nusers:\n" + boss,
			`departments[1].id: duplicate department "OPS" (also departments[0])`},
		{"unknown head", "departments:\n  - {id: OPS, name: x, head: nobody}\nusers:\n" + boss, `departments[0].head: unknown user "nobody"`},
		{"head from another department", depts + "  - {id: HR, name: 人事, head: boss}\nusers:\n" + boss,
			`departments[1].head: user "boss" belongs to department "OPS", not "HR"`},
		{"user id missing", depts + "users:\n  - {name: x, department: OPS}\n", "users[0].id: required"},
		{"user id invalid", depts + "users:\n  - {id: Boss Man, name: x, department: OPS}\n",
			`users[0].id: "Boss Man" must be at most 64 lowercase letters, digits and "._-", starting with a letter or digit`},
		{"user name missing", depts + "users:\n  - {id: boss, department: OPS}\n", "users[0].name: required"},
		{"user department missing", depts + "users:\n  - {id: boss, name: x}\n", "users[0].department: required"},
		{"duplicate user", depts + "users:\n" + boss + boss, `users[1].id: duplicate user "boss" (also users[0])`},
		{"unknown department", depts + "users:\n" + boss + "  - {id: x, name: x, department: XYZ}\n", `users[1].department: unknown department "XYZ"`},
		{"invalid role", depts + "users:\n" + boss + "  - {id: x, name: x, department: OPS, roles: [ok, Dept Head]}\n",
			`users[1].roles[1]: "Dept Head" must be lowercase letters, digits and '_', starting with a letter`},
		{"duplicate role", depts + "users:\n" + boss + "  - {id: x, name: x, department: OPS, roles: [a, b, a]}\n", `users[1].roles[2]: duplicate role "a"`},
		{"unknown manager", depts + "users:\n" + boss + "  - {id: x, name: x, department: OPS, manager: ghost}\n", `users[1].manager: unknown manager "ghost"`},
		{"head without manager", depts + "users:\n  - {id: boss, name: x, department: OPS}\n", `users[0].manager: required for "boss", the head of OPS ("" for none)`},
		{"own manager", depts + "users:\n  - {id: boss, name: x, department: OPS, manager: boss}\n", `users[0].manager: "boss" cannot manage themselves`},
		{"manager cycle", depts + "  - {id: HR, name: 人事, head: hr}\nusers:\n  - {id: boss, name: x, department: OPS, manager: hr}\n  - {id: hr, name: y, department: HR, manager: boss}\n",
			`users[0].manager: cycle boss → hr → boss`},
		{"cycle above a user", depts + "  - {id: HR, name: 人事, head: hr}\nusers:\n  - {id: a, name: a, department: OPS}\n  - {id: boss, name: x, department: OPS, manager: hr}\n  - {id: hr, name: y, department: HR, manager: boss}\n",
			`users[1].manager: cycle boss → hr → boss`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := houqin.ParseOrg([]byte(tt.doc))
			if err == nil {
				t.Fatalf("ParseOrg succeeded with %d users, want error %q", len(o.Users()), tt.want)
			}
			if code := houqin.ErrorCode(err); code != houqin.EINVALID {
				t.Errorf("code %s, want EINVALID (%v)", code, err)
			}
			if got := houqin.ErrorMessage(err); got != tt.want {
				t.Errorf("message\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestOrgLookups(t *testing.T) {
	o := mustParseOrg(t, testOrg)
	user := func(u houqin.User, err error) (string, string) {
		return u.ID, houqin.ErrorMessage(err)
	}
	tests := []struct {
		name    string
		call    func() (string, string)
		want    string
		wantErr string // message; "" = success
	}{
		{"User", func() (string, string) { return user(o.User("ann")) }, "ann", ""},
		{"User unknown", func() (string, string) { return user(o.User("x")) }, "", `user: no user "x"`},
		{"DeptHead", func() (string, string) { return user(o.DeptHead("SALES")) }, "sam", ""},
		{"DeptHead unknown", func() (string, string) { return user(o.DeptHead("XYZ")) }, "", `department: no department "XYZ"`},
		{"Manager of staff is the head", func() (string, string) { return user(o.Manager("ann", 1)) }, "sam", ""},
		{"Manager explicit", func() (string, string) { return user(o.Manager("bob", 1)) }, "boss", ""},
		{"Manager of a head", func() (string, string) { return user(o.Manager("sam", 1)) }, "boss", ""},
		{"Manager two levels", func() (string, string) { return user(o.Manager("ann", 2)) }, "boss", ""},
		{"Manager beyond the top", func() (string, string) { return user(o.Manager("ann", 3)) }, "",
			`manager: "ann" has no manager 3 level(s) up; the chain ends at "boss"`},
		{"Manager of the top", func() (string, string) { return user(o.Manager("boss", 1)) }, "",
			`manager: "boss" has no manager 1 level(s) up; the chain ends at "boss"`},
		{"Manager levels 0", func() (string, string) { return user(o.Manager("ann", 0)) }, "", "levels: must be at least 1, got 0"},
		{"Manager unknown user", func() (string, string) { return user(o.Manager("x", 1)) }, "", `user: no user "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if got != tt.want || err != tt.wantErr {
				t.Errorf("got (%q, %q), want (%q, %q)", got, err, tt.want, tt.wantErr)
			}
		})
	}

	t.Run("error codes", func(t *testing.T) {
		for _, c := range []struct {
			err  error
			code string
		}{
			{second(o.User("x")), houqin.ENOTFOUND},
			{second(o.Department("x")), houqin.ENOTFOUND},
			{second(o.DeptHead("x")), houqin.ENOTFOUND},
			{second(o.Manager("boss", 1)), houqin.ENOTFOUND},
			{second(o.Manager("ann", -1)), houqin.EINVALID},
			{second(o.Identity("x")), houqin.ENOTFOUND},
		} {
			if got := houqin.ErrorCode(c.err); got != c.code {
				t.Errorf("%v: code %s, want %s", c.err, got, c.code)
			}
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestOrgRoles(t *testing.T) {
	o := mustParseOrg(t, testOrg)
	tests := []struct {
		role string
		want []string
	}{
		{"staff", []string{"ann", "bob"}},
		{"dept_head", []string{"boss", "sam"}},
		{"driver", []string{"ann"}},
		{"nobody_has_this", nil},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ids(o.WithRole(tt.role))); diff != "" {
				t.Errorf("WithRole (-want +got):\n%s", diff)
			}
			for _, u := range o.Users() {
				want := strings.Contains(" "+strings.Join(tt.want, " ")+" ", " "+u.ID+" ")
				if got := o.HasRole(u.ID, tt.role); got != want {
					t.Errorf("HasRole(%s, %s) = %v, want %v", u.ID, tt.role, got, want)
				}
			}
		})
	}
	if o.HasRole("ghost", "staff") {
		t.Error("HasRole of an unknown user is true")
	}
}

func TestOrgIdentity(t *testing.T) {
	o := mustParseOrg(t, testOrg)
	id, err := o.Identity("ann")
	if err != nil {
		t.Fatal(err)
	}
	want := houqin.Identity{UserID: "ann", Name: "安", Department: "SALES", Roles: []string{"driver", "staff"}}
	if diff := cmp.Diff(want, id); diff != "" {
		t.Errorf("Identity (-want +got):\n%s", diff)
	}
	if !id.HasRole("driver") || id.HasRole("dept_head") {
		t.Errorf("Identity.HasRole wrong for roles %v", id.Roles)
	}
}

// TestOrgIsImmutable checks that callers cannot change the directory through
// the slices it hands out.
func TestOrgIsImmutable(t *testing.T) {
	o := mustParseOrg(t, testOrg)
	u, _ := o.User("ann")
	u.Roles[0] = "dept_head"
	o.Users()[0].Roles[0] = "dept_head"
	o.WithRole("staff")[0].Roles[0] = "dept_head"
	id, _ := o.Identity("ann")
	id.Roles[0] = "dept_head"
	o.Departments()[0].Head = "ann"
	if o.HasRole("ann", "dept_head") {
		t.Error("changing a returned user's roles changed the org")
	}
	if h, _ := o.DeptHead("OPS"); h.ID != "boss" {
		t.Errorf("changing a returned department changed the org: head of OPS is %s", h.ID)
	}
}

func TestOrgDoersAndLogistics(t *testing.T) {
	org, err := houqin.ParseOrg(config.DefaultOrg())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		exclude []string
		want    []string
	}{
		{nil, []string{"li.na"}},
		{[]string{"wang.fang"}, []string{"li.na"}},
		{[]string{"li.na"}, []string{"zhang.wei"}}, // her own request: the manager
		{[]string{"li.na", "zhang.wei"}, nil},
	} {
		if got := org.Doers(tt.exclude, houqin.LogisticsRoles...); !slices.Equal(got, tt.want) {
			t.Errorf("Doers(%v) = %v, want %v", tt.exclude, got, tt.want)
		}
	}
	for u, want := range map[string]bool{"li.na": true, "zhang.wei": true, "wang.fang": false, "chen.jing": false, "ghost": false} {
		if got := org.ServesLogistics(u); got != want {
			t.Errorf("ServesLogistics(%s) = %v, want %v", u, got, want)
		}
	}
}

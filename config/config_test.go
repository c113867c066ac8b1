package config_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
)

func TestDefaultOrg(t *testing.T) {
	org, err := houqin.ParseOrg(config.DefaultOrg())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(org.Users()); n != 13 {
		t.Errorf("%d users, want 13", n)
	}
	if n := len(org.Departments()); n != 10 {
		t.Errorf("%d departments, want 10", n)
	}
	id := func(u houqin.User, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"DeptHead(MKT)", id(org.DeptHead("MKT")), "liu.yang"},
		{"DeptHead(ADM)", id(org.DeptHead("ADM")), "zhang.wei"},
		{"DeptHead(PM)", id(org.DeptHead("PM")), "zheng.hao"},
		{"Manager(wang.fang, 1)", id(org.Manager("wang.fang", 1)), "liu.yang"},
		{"Manager(wang.fang, 2)", id(org.Manager("wang.fang", 2)), "zhang.wei"},
		{"Manager(wang.fang, 3)", id(org.Manager("wang.fang", 3)), "admin"},
		{"Manager(li.na, 1)", id(org.Manager("li.na", 1)), "zhang.wei"},
		{"Manager(zhang.wei, 1)", id(org.Manager("zhang.wei", 1)), "admin"},
		{"Manager(chen.jing, 1)", id(org.Manager("chen.jing", 1)), "admin"},
		{"Manager(huang.xin, 1)", id(org.Manager("huang.xin", 1)), "admin"},
		{"Manager(zheng.hao, 1)", id(org.Manager("zheng.hao", 1)), "zhang.wei"},
		{"Manager(sun.li, 1)", id(org.Manager("sun.li", 1)), "zhang.wei"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}

	t.Run("admin has no manager", func(t *testing.T) {
		if _, err := org.Manager("admin", 1); houqin.ErrorCode(err) != houqin.ENOTFOUND {
			t.Errorf("Manager(admin, 1) error = %v, want ENOTFOUND", err)
		}
	})
	t.Run("WithRole", func(t *testing.T) {
		ids := func(us []houqin.User) []string {
			var out []string
			for _, u := range us {
				out = append(out, u.ID)
			}
			return out
		}
		for role, want := range map[string][]string{
			"logistics_staff":  {"li.na"},
			"dept_head":        {"chen.jing", "liu.yang", "ma.chao", "sun.li", "wu.min", "zhang.wei", "zhao.lei", "zhou.qiang"},
			"finance":          {"chen.jing"},
			"auditor":          {"huang.xin"},
			"budget_exception": {"zhang.wei"},
		} {
			if diff := cmp.Diff(want, ids(org.WithRole(role))); diff != "" {
				t.Errorf("WithRole(%q) (-want +got):\n%s", role, diff)
			}
		}
	})
	t.Run("names", func(t *testing.T) {
		u, err := org.User("wang.fang")
		if err != nil {
			t.Fatal(err)
		}
		want := houqin.User{ID: "wang.fang", Name: "王芳", NameEn: "Wang Fang", Department: "MKT", Roles: []string{"employee"}, Manager: "liu.yang",
			Email: "wang.fang@houqin.example"}
		if diff := cmp.Diff(want, u); diff != "" {
			t.Errorf("User(wang.fang) (-want +got):\n%s", diff)
		}
		d, err := org.Department("PM")
		if err != nil {
			t.Fatal(err)
		}
		if wantD := (houqin.Department{ID: "PM", Name: "物业管理公司", NameEn: "Property Management Company", Head: "zheng.hao", External: true}); d != wantD {
			t.Errorf("Department(PM) = %+v, want %+v", d, wantD)
		}
		if zh, _ := org.User("zheng.hao"); !zh.External {
			t.Error("zheng.hao of the external PM is not External")
		}
		for _, u := range org.Users() {
			if u.Name == "" || u.NameEn == "" {
				t.Errorf("user %s lacks a zh or en name: %+v", u.ID, u)
			}
		}
		for _, d := range org.Departments() {
			if d.Name == "" || d.NameEn == "" {
				t.Errorf("department %s lacks a zh or en name: %+v", d.ID, d)
			}
		}
	})
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/api"
	"github.com/houqin/houqin/config"
)

// runToken prints a development token (HS256, signed with the key in the
// data directory) for a user of the organisation.
func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: houqin token [--data DIR] [--ttl 24h] [--org FILE] <user-id>")
		fs.PrintDefaults()
	}
	data := fs.String("data", "./data", "data directory holding the dev signing key ("+api.DevKeyFile+"), created if missing")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	orgFile := fs.String("org", "", "organisation YAML file (default: the embedded demo organisation)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("token: user id required")
	}
	userID := fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil { // flags may follow the user id
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("token: one user id expected; extra arguments %q", fs.Args())
	}
	if *ttl <= 0 {
		return fmt.Errorf("token: --ttl must be positive, got %s", *ttl)
	}

	org, err := loadOrg(*orgFile)
	if err != nil {
		return err
	}
	if _, err := org.User(userID); err != nil {
		return fmt.Errorf("token: unknown user %q: not in the organisation (%s)", userID, orgSource(*orgFile))
	}
	key, err := api.LoadOrCreateDevKey(*data)
	if err != nil {
		return err
	}
	tok, err := api.IssueDevToken(key, userID, *ttl)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// loadOrg parses the organisation in path, or the embedded demo organisation
// if path is "".
func loadOrg(path string) (*houqin.Org, error) {
	b := config.DefaultOrg()
	if path != "" {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("org: %w", err)
		}
	}
	org, err := houqin.ParseOrg(b)
	if err != nil {
		return nil, fmt.Errorf("org %s: %s", orgSource(path), houqin.ErrorMessage(err))
	}
	return org, nil
}

// loadPolicy reads the approval policy from path, or the embedded default
// policy if path is empty.
func loadPolicy(path string) (*houqin.Policy, error) {
	b, name := config.DefaultPolicy(), "policy.yaml (embedded)"
	if path != "" {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		name = path
	}
	p, err := houqin.ParsePolicy(name, b)
	if err != nil {
		return nil, fmt.Errorf("policy %s", houqin.ErrorMessage(err))
	}
	return p, nil
}

// loadKPI reads the KPI targets and survey timers: path, or the embedded
// config/kpi.yaml.
func loadKPI(path string) (houqin.KPIConfig, error) {
	b, name := config.DefaultKPI(), "kpi.yaml (embedded)"
	if path != "" {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			return houqin.KPIConfig{}, fmt.Errorf("kpi: %w", err)
		}
		name = path
	}
	c, err := houqin.ParseKPIConfig(name, b)
	if err != nil {
		return c, fmt.Errorf("kpi %s", houqin.ErrorMessage(err))
	}
	return c, nil
}

func orgSource(path string) string {
	if path == "" {
		return "embedded config/org.yaml"
	}
	return path
}

// loadChecklists reads the inspection checklists from path, or the
// embedded default if path is empty.
func loadChecklists(path string) (*houqin.Checklists, error) {
	b, name := config.DefaultChecklists(), "checklists.yaml (embedded)"
	if path != "" {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("checklists: %w", err)
		}
		name = path
	}
	c, err := houqin.ParseChecklists(name, b)
	if err != nil {
		return nil, fmt.Errorf("checklists %s", houqin.ErrorMessage(err))
	}
	return c, nil
}

// Package config holds houqin's default configuration files, embedded in the
// binary so that `houqin dev` runs with no files around; each can be
// overridden by a file given on the command line.
package config

import _ "embed"

//go:embed org.yaml
var org []byte

// DefaultOrg returns the demo organisation (org.yaml), the YAML that
// houqin.ParseOrg reads. The caller owns the returned slice.
func DefaultOrg() []byte { return append([]byte(nil), org...) }

//go:embed policy.yaml
var policy []byte

// DefaultPolicy returns the default approval policy (policy.yaml), the YAML
// that houqin.ParsePolicy reads. The caller owns the returned slice.
func DefaultPolicy() []byte { return append([]byte(nil), policy...) }

//go:embed checklists.yaml
var checklists []byte

// DefaultChecklists returns the inspection checklists (checklists.yaml),
// the YAML that houqin.ParseChecklists reads. The caller owns the slice.
func DefaultChecklists() []byte { return append([]byte(nil), checklists...) }

//go:embed kpi.yaml
var kpi []byte

// DefaultKPI returns the KPI targets and survey timers (kpi.yaml), the YAML
// that houqin.ParseKPIConfig reads. The caller owns the returned slice.
func DefaultKPI() []byte { return append([]byte(nil), kpi...) }

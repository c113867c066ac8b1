package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
)

func runProjectionsRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin projections rebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	every := fs.Duration("progress", 2*time.Second, "interval between progress lines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: houqin projections rebuild [flags] NAME (one of %v)", projectionNames())
	}
	kpi, err := sf.kpiConfig()
	if err != nil {
		return err
	}
	store, db, closeStores, err := sf.openBoth(ctx, nil)
	if err != nil {
		return err
	}
	defer closeStores()
	r := projections.NewRunner(store, db, allProjections(kpi), projections.Options{})
	return r.Rebuild(ctx, fs.Arg(0), stdout, *every)
}

func runProjectionsShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin projections show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) != "event_counts" {
		return fmt.Errorf("usage: houqin projections show [flags] NAME (one of [event_counts])")
	}
	db, err := openReadModels(ctx, sf.readModelsDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := projections.ListEventCounts(ctx, db)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

func runProjectionsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin projections list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	kpi, err := sf.kpiConfig()
	if err != nil {
		return err
	}
	store, db, closeStores, err := sf.openBoth(ctx, nil)
	if err != nil {
		return err
	}
	defer closeStores()
	ps := allProjections(kpi)
	r := projections.NewRunner(store, db, ps, projections.Options{})
	if err := r.Setup(ctx); err != nil {
		return err
	}
	head, err := store.Head(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		pos := r.Position(p.Name())
		fmt.Fprintf(stdout, "%-20s version %d  position %d/%d  lag %d\n", p.Name(), p.Version(), pos, head, head-pos)
	}
	return nil
}

func projectionNames() []string {
	var names []string
	for _, p := range allProjections(houqin.DefaultKPIConfig()) {
		names = append(names, p.Name())
	}
	return names
}

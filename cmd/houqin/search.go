package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/houqin/houqin/worker"
	"github.com/houqin/houqin/workflows"
)

// runSearchAttributes registers houqin's business search attributes on a
// Temporal namespace: once per cluster, before the first worker starts
// (houqin dev does it on its embedded server).
func runSearchAttributes(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin search-attributes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tf temporalFlags
	tf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := tf.dial(ctx, stderr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := worker.RegisterSearchAttributes(ctx, c, tf.namespace); err != nil {
		return err
	}
	attrs := workflows.SearchAttributes()
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		fmt.Fprintf(stdout, "%-15s %s\n", name, attrs[name])
	}
	fmt.Fprintf(stdout, "namespace %s has houqin's search attributes\n", tf.namespace)
	return nil
}

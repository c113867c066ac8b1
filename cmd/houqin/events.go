package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/houqin/houqin"
)

func runEventsTail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin events tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	from := fs.Int64("from", 0, "print events after this position")
	follow := fs.Bool("follow", false, "keep printing new events until interrupted")
	stream := fs.String("stream", "", "print only this stream (forwards from version 0)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	store, err := openEventStore(ctx, sf.eventsDSN(), nil)
	if err != nil {
		return err
	}
	defer store.Close()
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)

	if *stream != "" {
		events, err := store.ReadStream(ctx, *stream, 0, houqin.Forward, houqin.DefaultLimits.MaxReadLimit)
		if err != nil {
			return err
		}
		for _, e := range events {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	}
	changed := func() <-chan struct{} { return nil }
	if n, ok := store.(interface{ Changed() <-chan struct{} }); ok {
		changed = n.Changed
	}
	after := *from
	for {
		wake := changed()
		events, err := store.ReadAll(ctx, after, 1000)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for _, e := range events {
			if err := enc.Encode(e); err != nil {
				return err
			}
			after = e.Position
		}
		if len(events) > 0 {
			continue
		}
		if !*follow {
			return nil
		}
		if err := out.Flush(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func runEventsVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin events verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	store, err := openEventStore(ctx, sf.eventsDSN(), nil)
	if err != nil {
		return err
	}
	defer store.Close()
	head, err := store.Head(ctx)
	if err != nil {
		return err
	}
	v := houqin.NewVerifier()
	start, last := time.Now(), time.Now()
	for after := int64(0); ; {
		events, err := store.ReadAll(ctx, after, 10_000)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			break
		}
		for _, e := range events {
			if err := v.Add(e); err != nil {
				return fmt.Errorf("TAMPERED: %w", err)
			}
		}
		after = events[len(events)-1].Position
		if time.Since(last) > 2*time.Second {
			rate := float64(v.Events) / time.Since(start).Seconds()
			fmt.Fprintf(stderr, "verified %d/%d events, %.0f events/s, ETA %s\n", after, head, rate,
				(time.Duration(float64(max(head-after, 0))/rate) * time.Second).Round(time.Second))
			last = time.Now()
		}
	}
	fmt.Fprintf(stdout, "ok: %d events in %d streams verified in %s; every hash chain is intact\n",
		v.Events, v.Streams, time.Since(start).Round(time.Millisecond))
	return nil
}

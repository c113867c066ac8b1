package devserver

import (
	"os"
	"runtime/pprof"
	"testing"
	"time"
)

func TestTmpLeak(t *testing.T) {
	s := startServer(t, Config{DataDir: t.TempDir(), UIPort: -1})
	time.Sleep(3 * time.Second)
	s.Stop()
	time.Sleep(3 * time.Second)
	f, _ := os.Create("/tmp/ds_goroutines2.txt")
	pprof.Lookup("goroutine").WriteTo(f, 2)
	f.Close()
}

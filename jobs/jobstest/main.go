package jobstest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue/ingest/pdf"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

// TestExe is this test binary, which Main makes a PDF child on demand.
func TestExe() string { exe, _ := os.Executable(); return exe }

// Main is a test package's TestMain: the PDF parser's child when the binary
// runs as one, otherwise a redis-server for the package (in *srv; each test
// takes a database of its own with (*srv).NewDB(t)) around m.Run.
func Main(m *testing.M, srv **redistest.Server) {
	// The PDF parser re-executes this test binary as its sandboxed child.
	if pdf.IsChild() {
		os.Exit(pdf.ChildMain())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	s, err := redistest.Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		os.Exit(1)
	}
	*srv = s
	code := m.Run()
	s.Stop()
	os.Exit(code)
}

// Manual is a text document long enough for several chunks, with facts to
// ask about.
const Manual = `Zephyr pump maintenance.

The Zephyr pump needs its pressure valve calibrated every month. Calibration takes about twenty minutes and needs the blue torque wrench.

Filters are replaced every quarter. A clogged filter makes the pump whine at high pitch, which is the most common complaint from operators.

The warranty covers the motor for five years and the impeller for two years. Damage from running the pump dry is never covered.

Storage in winter: drain the housing completely, because frozen water cracks the impeller casing. Keep the pump above five degrees Celsius.

Error code E42 means the flow sensor is disconnected. Reseat the connector under the front panel before calling support.`

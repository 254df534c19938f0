//go:build linux

package pdf

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// setPdeathsig has the kernel kill the child when the parent dies, so
// children never outlive a crashed worker.
func setPdeathsig(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }

// addressSpaceInUse returns the process's mapped address space in bytes.
func addressSpaceInUse() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0, false
	}
	pages, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}

// maxrssUnit is the unit of Rusage.Maxrss: KiB on Linux.
const maxrssUnit = 1024

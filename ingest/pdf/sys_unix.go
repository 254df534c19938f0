//go:build unix

package pdf

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// childSysProcAttr puts a child in its own process group (so that a kill
// reaches anything it starts) and, on Linux, has it killed when the parent
// dies.
func childSysProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	setPdeathsig(attr)
	return attr
}

// killChild kills a child's process group, or the child alone if that fails.
func killChild(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err == nil || errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return cmd.Process.Kill()
}

// notifyCPULimit asks for SIGXCPU on ch; it reports whether it could.
func notifyCPULimit(ch chan<- os.Signal) bool {
	signal.Notify(ch, syscall.SIGXCPU)
	return true
}

// childHeadroom is address space allowed on top of what the child has
// mapped at start and MemoryBytes: the Go runtime reserves heap arenas and
// metadata ahead of use.
const childHeadroom = 128 << 20

// applyChildLimits sets the child's resource limits: RLIMIT_AS (what the
// runtime has mapped at start, plus the mapped PDF, plus MemoryBytes and
// headroom), RLIMIT_CPU (soft; the hard limit a few seconds later kills),
// and a soft heap limit below MemoryBytes so the GC works hard first.
func applyChildLimits(a childArgs) error {
	if a.MemoryBytes <= 0 || a.CPUSeconds <= 0 {
		return fmt.Errorf("ingest: pdf child: limits missing")
	}
	debug.SetMemoryLimit(a.MemoryBytes * 7 / 8)
	if inUse, ok := addressSpaceInUse(); ok {
		limit := uint64(inUse) + uint64(a.Size) + raceAddressFactor*(uint64(a.MemoryBytes)+childHeadroom)
		if err := unix.Setrlimit(unix.RLIMIT_AS, &unix.Rlimit{Cur: limit, Max: limit}); err != nil {
			return fmt.Errorf("ingest: pdf child: set RLIMIT_AS: %w", err)
		}
	}
	cpu := uint64(a.CPUSeconds)
	if err := unix.Setrlimit(unix.RLIMIT_CPU, &unix.Rlimit{Cur: cpu, Max: cpu + 5}); err != nil {
		return fmt.Errorf("ingest: pdf child: set RLIMIT_CPU: %w", err)
	}
	return nil
}

// mapFile maps size bytes of f read-only. A file that cannot be mapped is
// read into memory instead.
func mapFile(f *os.File, size int64) ([]byte, func(), error) {
	if size <= 0 {
		return nil, func() {}, nil
	}
	if int64(int(size)) != size {
		return nil, nil, fmt.Errorf("file of %d bytes is too large to map", size)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err == nil {
		return data, func() { _ = unix.Munmap(data) }, nil
	}
	data = make([]byte, size)
	if _, err := f.ReadAt(data, 0); err != nil {
		return nil, nil, err
	}
	return data, func() {}, nil
}

// childSupported reports whether PDF children can run on this platform.
func childSupported() error { return nil }

// cpuExceeded reports whether a child was killed for using up its CPU time.
func cpuExceeded(ps *os.ProcessState, lim Limits) bool {
	if ps == nil {
		return false
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL && ws.Signal() != syscall.SIGXCPU {
		return false
	}
	return ps.UserTime()+ps.SystemTime() >= time.Duration(lim.CPUSeconds)*time.Second
}

// maxRSS returns a finished child's peak resident set in bytes.
func maxRSS(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	return int64(ru.Maxrss) * maxrssUnit
}

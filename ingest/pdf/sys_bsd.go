//go:build unix && !linux

package pdf

import "syscall"

// setPdeathsig does nothing: only Linux can kill a child with its parent.
func setPdeathsig(*syscall.SysProcAttr) {}

// addressSpaceInUse is unknown here, so RLIMIT_AS is not set (macOS does
// not enforce it anyway); the soft heap limit still applies.
func addressSpaceInUse() (int64, bool) { return 0, false }

// maxrssUnit is the unit of Rusage.Maxrss: bytes on macOS (KiB on the BSDs,
// where peak RSS figures will read 1024 times too small).
const maxrssUnit = 1

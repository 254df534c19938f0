package redistest

import "syscall"

// sysProcAttr makes the kernel kill redis-server if the test binary dies
// without calling Stop (a panic, a timeout), so no server outlives its tests.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

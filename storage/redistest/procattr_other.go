//go:build !linux

package redistest

import "syscall"

// sysProcAttr has no parent-death signal outside Linux: Stop is the only
// cleanup.
func sysProcAttr() *syscall.SysProcAttr { return nil }

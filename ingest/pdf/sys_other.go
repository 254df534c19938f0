//go:build !unix

package pdf

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// errNoChild explains why PDFs cannot be parsed on this platform.
var errNoChild = errors.New("ingest: pdf: parsing in a child process needs a Unix system")

// childSysProcAttr has nothing to set here.
func childSysProcAttr() *syscall.SysProcAttr { return nil }

// killChild kills the child.
func killChild(cmd *exec.Cmd) error { return cmd.Process.Kill() }

// notifyCPULimit cannot watch a CPU limit here.
func notifyCPULimit(chan<- os.Signal) bool { return false }

// applyChildLimits cannot limit the child here.
func applyChildLimits(childArgs) error { return errNoChild }

// mapFile is never reached here.
func mapFile(*os.File, int64) ([]byte, func(), error) { return nil, nil, errNoChild }

// childSupported reports that PDF children cannot run here.
func childSupported() error { return errNoChild }

// cpuExceeded cannot tell here.
func cpuExceeded(*os.ProcessState, Limits) bool { return false }

// maxRSS is unknown here.
func maxRSS(*os.ProcessState) int64 { return 0 }

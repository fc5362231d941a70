//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
)

// peakRSS is the finished child's peak resident set size in bytes
// (getrusage's ru_maxrss: KiB on Linux and the BSDs, bytes on macOS).
func peakRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0
	}
	return maxrssBytes(int64(ru.Maxrss)) // int32 on some platforms
}

// selfPeakRSS is this process's peak resident set size in bytes.
func selfPeakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return maxrssBytes(int64(ru.Maxrss)) // int32 on some platforms
}

func maxrssBytes(v int64) int64 {
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return v
	}
	return v * 1024
}

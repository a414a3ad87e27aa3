//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyWinch calls f after each window change (SIGWINCH) until stop.
func notifyWinch(f func()) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				f()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

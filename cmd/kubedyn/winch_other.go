//go:build !unix

package main

// notifyWinch does nothing where there is no SIGWINCH.
func notifyWinch(func()) (stop func()) { return func() {} }

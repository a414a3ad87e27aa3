package watch_test

import (
	"iter"
)

// iterPull is iter.Pull2 for event streams.
func iterPull[K, V any](seq iter.Seq2[K, V]) (func() (K, V, bool), func()) { return iter.Pull2(seq) }

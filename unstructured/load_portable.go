//go:build !(amd64 || arm64 || ppc64le || 386)

package unstructured

import (
	"encoding/binary"
	"unsafe"
)

// load64 reads the eight bytes of s at i, first byte lowest, as the SWAR
// scans want them (there must be eight): byte by byte, for machines that
// are big-endian or slow at unaligned loads.
func load64(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
}

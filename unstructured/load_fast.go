//go:build amd64 || arm64 || ppc64le || 386

package unstructured

import "unsafe"

// load64 reads the eight bytes of s at i, first byte lowest, as the SWAR
// scans want them. The caller guarantees i+8 <= len(s); on these
// little-endian machines, which load unaligned words at full speed, it is
// one load with no bounds check.
func load64(s string, i int) uint64 {
	return *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i))
}

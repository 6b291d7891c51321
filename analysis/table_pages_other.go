//go:build !unix

package analysis

// adviseHugeArray does nothing: huge pages are asked for on Linux only.
func adviseHugeArray[T any]([]T) {}

// adviseNormalArray does nothing, as adviseHugeArray.
func adviseNormalArray[T any]([]T) {}

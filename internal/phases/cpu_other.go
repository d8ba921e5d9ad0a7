//go:build !unix

package phases

func cpuSeconds() float64 { return 0 }

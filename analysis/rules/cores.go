package rules

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// onEveryCore calls fn(i) for every i below n, spread over the processors
// in blocks of consecutive i; fn must touch nothing another i does.
func onEveryCore(n int, fn func(i int)) {
	const block = 64
	var next atomic.Int64
	work := func() {
		for {
			from := int(next.Add(block)) - block
			if from >= n {
				return
			}
			for i := from; i < min(from+block, n); i++ {
				fn(i)
			}
		}
	}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), (n+block-1)/block) - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}

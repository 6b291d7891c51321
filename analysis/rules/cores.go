package rules

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// onEveryCore calls fn(i) for every i below n, spread over the processors
// in blocks of consecutive i; fn must touch nothing another i does.
func onEveryCore(n int, fn func(i int)) {
	onEveryCoreWith(n, 64, func() func(int) { return fn })
}

// onEveryCoreWith is onEveryCore in blocks of block, where each processor's
// work calls worker once for the function it calls each of its i with:
// state of its own (a scratch buffer) that no other processor touches.
func onEveryCoreWith(n, block int, worker func() func(i int)) {
	var next atomic.Int64
	work := func() {
		fn := worker()
		for {
			from := int(next.Add(int64(block))) - block
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
		wg.Go(work)
	}
	work()
	wg.Wait()
}

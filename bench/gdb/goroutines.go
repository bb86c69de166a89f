// N goroutines parked on a channel receive, then a breakpoint trap so GDB
// stops with all of them alive: the anchor for Go's runtime-gdb.py
// `info goroutines` (bench/run-gdb.sh).
package main

import (
	"os"
	"runtime"
	"strconv"
	"sync"
)

func waiter(ch chan int, wg *sync.WaitGroup) {
	wg.Done()
	<-ch
}

func main() {
	n, _ := strconv.Atoi(os.Args[1])
	ch := make(chan int)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go waiter(ch, &wg)
	}
	wg.Wait()
	runtime.Breakpoint()
}

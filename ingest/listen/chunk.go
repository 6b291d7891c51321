package listen

// maxChunk is the most messages in a chunk (a recvmmsg call's worth).
const maxChunk = 64

// freeChunks holds emptied chunks for reuse. Not a sync.Pool: the pool is
// emptied at every garbage collection, frequent at these rates, and the
// readers then spent 5% of the listener's CPU growing new chunks.
var freeChunks = make(chan *chunk, 1024)

// chunk is a run of received messages handed from a reader to the
// consumer in one queue operation: the datagrams of one recvmmsg call, or
// the frames a TCP connection had already buffered. One channel operation
// and one consumer wake-up per message cost a tenth of the listener's CPU
// at 150,000 datagrams a second.
type chunk struct {
	data    []byte    // the messages, back to back
	ends    []int     // where each message ends in data
	senders []*sender // who sent each
	cost    int64     // what it counts against QueueBytes: msgCost of each
	udp     bool      // received over UDP: the senders are not authenticated
}

func getChunk() *chunk {
	select {
	case ch := <-freeChunks:
		return ch
	default:
		return &chunk{data: make([]byte, 0, 16<<10), ends: make([]int, 0, maxChunk),
			senders: make([]*sender, 0, maxChunk)}
	}
}

// putChunk empties ch and keeps it for reuse.
func putChunk(ch *chunk) {
	if cap(ch.data) > 1<<20 {
		return // let a rare large buffer go
	}
	ch.data, ch.ends, ch.cost, ch.udp = ch.data[:0], ch.ends[:0], 0, false
	clear(ch.senders)
	ch.senders = ch.senders[:0]
	select {
	case freeChunks <- ch:
	default:
	}
}

// add copies msg into ch.
func (ch *chunk) add(msg []byte, snd *sender) {
	ch.data = append(ch.data, msg...)
	ch.ends = append(ch.ends, len(ch.data))
	ch.senders = append(ch.senders, snd)
	ch.cost += msgCost(len(msg))
}

func (ch *chunk) len() int { return len(ch.ends) }

// msg returns the i-th message.
func (ch *chunk) msg(i int) []byte {
	from := 0
	if i > 0 {
		from = ch.ends[i-1]
	}
	return ch.data[from:ch.ends[i]]
}

// msgCost is the memory a queued message of n bytes takes: its bytes and
// its share of a chunk's bookkeeping and slack. QueueBytes bounds the sum.
func msgCost(n int) int64 { return int64(n) + 64 }

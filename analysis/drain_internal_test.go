package analysis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// TestEncodeBatches: encodeBatches hands write every batch once, in order,
// with the count enc gave, on any number of workers and for any number of
// items around the batch size; after an error from write it returns that
// error, writes nothing more, and its workers have stopped.
func TestEncodeBatches(t *testing.T) {
	// enc encodes the even items of a batch only, each as its number.
	enc := func(b []byte, from, to int) ([]byte, int) {
		n := 0
		for i := from; i < to; i++ {
			if i%2 == 0 {
				b = binary.AppendUvarint(b, uint64(i))
				n++
			}
		}
		return b, n
	}
	for _, workers := range []int{0, 1, 2, 3, 4, 9} {
		for _, n := range []int{0, 1, drainEncodeBatch - 1, drainEncodeBatch, drainEncodeBatch + 1, 7*drainEncodeBatch + 3} {
			t.Run(fmt.Sprintf("workers%d/items%d", workers, n), func(t *testing.T) {
				next, calls := 0, 0
				err := encodeBatches(n, workers, enc, func(b []byte, items int) error {
					calls++
					for range items {
						v, k := binary.Uvarint(b)
						if k <= 0 || int(v) != next {
							return fmt.Errorf("item %d (%d), want %d", v, k, next)
						}
						b, next = b[k:], next+2
					}
					if len(b) > 0 {
						return fmt.Errorf("%d bytes past %d items", len(b), items)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if want := (n + 1) / 2; next/2 != want {
					t.Errorf("%d items written, want %d", next/2, want)
				}
				if want := (n + drainEncodeBatch - 1) / drainEncodeBatch; calls != want {
					t.Errorf("%d batches written, want %d", calls, want)
				}
			})
		}
		t.Run(fmt.Sprintf("workers%d/error", workers), func(t *testing.T) {
			stop := errors.New("disk full")
			calls := 0
			err := encodeBatches(9*drainEncodeBatch, workers, enc, func([]byte, int) error {
				if calls++; calls == 3 {
					return stop
				}
				return nil
			})
			if !errors.Is(err, stop) || calls != 3 {
				t.Errorf("error %v after %d writes, want %v after 3", err, calls, stop)
			}
		})
	}
}

package workspace

import "github.com/flowsleuth/flowsleuth/analysis"

// piece is what the encoder hands the writer: conversation blocks
// (blockBuilder) and their conversations' sample lines, or a chunk of open
// connections.
type piece struct {
	states      int          // conversations handed
	writes      []blockWrite // blocks, their blobs one after the other in blobs
	blobs       []byte
	lines       []lineWrite // sample lines, their bytes in text
	text        []byte
	samples     []sampleWrite // sample blocks of new conversations' lines (makeBlocks), their blobs in sampleBlobs
	sampleBlobs []byte
	chunk       []byte
	endpoints   []addr16 // endpoints learned in order since the piece before (endpointSet.takeRun)
}

// blockWrite is a conversation block to store: stored block row rewritten
// (0: a new block), its first key and sums, its blob in piece.blobs[from:to].
type blockWrite struct {
	row      int64
	k        analysis.Key
	sums     blockSums
	from, to int
}

// lineWrite is what becomes of conversation id's sample lines (op), in
// piece.text[from:to].
type lineWrite struct {
	id       int64
	op       uint8
	from, to int
}

// sampleWrite is a sample block of ids first to last, its blob in
// piece.sampleBlobs[from:to].
type sampleWrite struct {
	first, last int64
	from, to    int
}

// addLines adds what becomes of conversation id's sample lines to p.
func (p *piece) addLines(id int64, op uint8, lines []byte) {
	from := len(p.text)
	p.text = append(p.text, lines...)
	p.lines = append(p.lines, lineWrite{id: id, op: op, from: from, to: len(p.text)})
}

// reset empties p for reuse.
func (p *piece) reset() {
	p.states, p.writes, p.blobs, p.lines, p.text = 0, p.writes[:0], p.blobs[:0], p.lines[:0], p.text[:0]
	p.samples, p.sampleBlobs, p.endpoints = p.samples[:0], p.sampleBlobs[:0], nil
}

// What becomes of the sample lines of a conversation (lineWrite.op): a
// merge's (mergeRecord) or a new conversation's.
const (
	linesKept     = iota // the merged state has the same
	linesDropped         // it has none
	linesReplaced        // it has others: its own, stored in conversation_samples
	linesNew             // a new conversation's, for a sample block (makeBlocks)
)

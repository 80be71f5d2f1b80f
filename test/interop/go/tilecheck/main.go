// Command tilecheck is an independent verifier for keywarden's C2SP tlog-tiles output, built on
// Go's golang.org/x/mod/sumdb/tlog (tile hash reading, tree hashes, proofs) and
// golang.org/x/mod/sumdb/note (signed-note verification). It maps C2SP paths (tile/<L>/<N>) to
// sumdb's (tile/8/<L>/<N>), reads the log directory itself, verifies the checkpoint signature,
// recomputes the tree hash from tiles, checks every proof keywarden produced and compares it with
// the proof tlog builds itself. Usage: tilecheck <request.json>. Prints "ok <checks>" or fails.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type proofReq struct {
	Index  int64    `json:"index"`
	Hashes []string `json:"hashes"`
}

type consistencyReq struct {
	OldSize int64    `json:"oldSize"`
	OldRoot string   `json:"oldRoot"`
	Hashes  []string `json:"hashes"`
}

type request struct {
	Dir         string           `json:"dir"`
	Vkey        string           `json:"vkey"`
	Inclusion   []proofReq       `json:"inclusion"`
	Consistency []consistencyReq `json:"consistency"`
}

type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return 8 }

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := t.Path() // tile/8/<L>/<N>[.p/<W>]
		c2sp := "tile/" + strings.TrimPrefix(p, "tile/8/")
		b, err := os.ReadFile(filepath.Join(d.dir, filepath.FromSlash(c2sp)))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func decodeHashes(list []string) (tlog.RecordProof, error) {
	var out []tlog.Hash
	for _, s := range list {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return nil, fmt.Errorf("bad hash %q", s)
		}
		var h tlog.Hash
		copy(h[:], b)
		out = append(out, h)
	}
	return out, nil
}

// entry reads entry i from the C2SP entry bundle (uint16 big-endian length prefixes).
func entry(dir string, n, i int64) ([]byte, error) {
	bundle := i / 256
	width := n - bundle*256
	if width > 256 {
		width = 256
	}
	t := tlog.Tile{H: 8, L: 0, N: bundle, W: int(width)}
	p := "tile/entries/" + strings.TrimPrefix(t.Path(), "tile/8/0/")
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
	if err != nil {
		return nil, err
	}
	var k int64
	for len(data) >= 2 {
		l := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+l {
			break
		}
		if k == i%256 {
			return data[2 : 2+l], nil
		}
		data = data[2+l:]
		k++
	}
	return nil, fmt.Errorf("entry %d not in bundle", i)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "tilecheck: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("%v", err)
	}
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		fail("%v", err)
	}
	verifier, err := note.NewVerifier(req.Vkey)
	if err != nil {
		fail("vkey: %v", err)
	}
	msg, err := os.ReadFile(filepath.Join(req.Dir, "checkpoint"))
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != 32 {
		fail("checkpoint root")
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	tree := tlog.Tree{N: size, Hash: root}
	hr := tlog.TileHashReader(tree, dirTiles{req.Dir})
	th, err := tlog.TreeHash(size, hr)
	if err != nil {
		fail("tree hash from tiles: %v", err)
	}
	if th != root {
		fail("tree hash from tiles differs from checkpoint root")
	}
	checks := 2
	for _, p := range req.Inclusion {
		ours, err := decodeHashes(p.Hashes)
		if err != nil {
			fail("%v", err)
		}
		data, err := entry(req.Dir, size, p.Index)
		if err != nil {
			fail("%v", err)
		}
		leaf := tlog.RecordHash(data)
		if err := tlog.CheckRecord(ours, size, root, p.Index, leaf); err != nil {
			fail("inclusion %d: %v", p.Index, err)
		}
		theirs, err := tlog.ProveRecord(size, p.Index, hr)
		if err != nil {
			fail("prove %d: %v", p.Index, err)
		}
		if !equal(ours, theirs) {
			fail("inclusion %d: proof differs from tlog's", p.Index)
		}
		checks += 2
	}
	for _, c := range req.Consistency {
		ours, err := decodeHashes(c.Hashes)
		if err != nil {
			fail("%v", err)
		}
		old, err := decodeHashes([]string{c.OldRoot})
		if err != nil {
			fail("%v", err)
		}
		if err := tlog.CheckTree(tlog.TreeProof(ours), size, root, c.OldSize, old[0]); err != nil {
			fail("consistency %d: %v", c.OldSize, err)
		}
		theirs, err := tlog.ProveTree(size, c.OldSize, hr)
		if err != nil {
			fail("prove tree %d: %v", c.OldSize, err)
		}
		if !equal(ours, tlog.RecordProof(theirs)) {
			fail("consistency %d: proof differs from tlog's", c.OldSize)
		}
		checks += 2
	}
	fmt.Printf("ok %d\n", checks)
}

func equal(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i][:], b[i][:]) {
			return false
		}
	}
	return true
}

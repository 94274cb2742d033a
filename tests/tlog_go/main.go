// tlog_go: the reference implementation's side of tests/integration/tlog_go.sh. It uses
// only golang.org/x/mod/sumdb/{note,tlog} as Debian 12 ships them, so what it accepts is
// what Go accepts. Build: GO111MODULE=off GOPATH=/usr/share/gocode go build.
//
//	tlog_go keygen NAME                          prints the signer key, then the vkey
//	tlog_go sign SKEY-FILE TEXT-FILE             prints the signed note
//	tlog_go open VKEY NOTE-FILE                  prints the note text; exit 1 if refused
//	tlog_go root LEAF-FILE...                    base64 tree head of the leaves
//	tlog_go prove-record INDEX LEAF-FILE...      inclusion proof, one base64 hash a line
//	tlog_go prove-tree OLD LEAF-FILE...          consistency proof from OLD to all leaves
//	tlog_go check-record INDEX SIZE ROOT LEAF-FILE [HASH...]
//	tlog_go check-tree OLD OLD-ROOT NEW NEW-ROOT [HASH...]
//	tlog_go tiles DIR VKEY [INDEX...]            opens DIR/checkpoint with VKEY, checks DIR's
//	                                             c2sp tiles give its root (Go's TileHashReader,
//	                                             tile/8/L/N read from tile/L/N), prints the
//	                                             inclusion proof of each INDEX after a "-" line
package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"strings"

	"path/filepath"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlog_go: "+format+"\n", args...)
	os.Exit(1)
}

func read(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		die("%v", err)
	}
	return b
}

func num(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		die("%v", err)
	}
	return n
}

func hashes(args []string) []tlog.Hash {
	var out []tlog.Hash
	for _, a := range args {
		h, err := tlog.ParseHash(a)
		if err != nil {
			die("%v", err)
		}
		out = append(out, h)
	}
	return out
}

// store keeps the tree's stored hashes in memory, in Go's own layout.
func store(files []string) tlog.HashReader {
	var stored []tlog.Hash
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, f := range files {
		hs, err := tlog.StoredHashes(int64(i), read(f), r)
		if err != nil {
			die("%v", err)
		}
		stored = append(stored, hs...)
	}
	return r
}

// printProof prints a proof's hashes in base64, one a line, the deepest first.
func printProof(p []tlog.Hash, err error) {
	if err != nil {
		die("%v", err)
	}
	for _, h := range p {
		fmt.Println(h)
	}
}

// c2spTiles reads c2sp.org/tlog-tiles paths (no height element) for Go's TileHashReader,
// whose paths carry the height: tile/8/L/N becomes tile/L/N.
type c2spTiles struct{ dir string }

func (c2spTiles) Height() int { return 8 }

func (r c2spTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
		b, err := os.ReadFile(filepath.Join(r.dir, p))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (c2spTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func main() {
	if len(os.Args) < 2 {
		die("usage: see the comment at the top of main.go")
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "keygen":
		skey, vkey, err := note.GenerateKey(rand.Reader, args[0])
		if err != nil {
			die("%v", err)
		}
		fmt.Println(skey)
		fmt.Println(vkey)
	case "sign":
		s, err := note.NewSigner(strings.TrimSpace(string(read(args[0]))))
		if err != nil {
			die("%v", err)
		}
		msg, err := note.Sign(&note.Note{Text: string(read(args[1]))}, s)
		if err != nil {
			die("%v", err)
		}
		os.Stdout.Write(msg)
	case "open":
		v, err := note.NewVerifier(args[0])
		if err != nil {
			die("%v", err)
		}
		n, err := note.Open(read(args[1]), note.VerifierList(v))
		if err != nil {
			die("%v", err)
		}
		fmt.Print(n.Text)
	case "root":
		h, err := tlog.TreeHash(int64(len(args)), store(args))
		if err != nil {
			die("%v", err)
		}
		fmt.Println(h)
	case "prove-record":
		p, err := tlog.ProveRecord(int64(len(args)-1), num(args[0]), store(args[1:]))
		printProof(p, err)
	case "prove-tree":
		p, err := tlog.ProveTree(int64(len(args)-1), num(args[0]), store(args[1:]))
		printProof(p, err)
	case "check-record":
		root := hashes(args[2:3])[0]
		leaf := tlog.RecordHash(read(args[3]))
		if err := tlog.CheckRecord(hashes(args[4:]), num(args[1]), root, num(args[0]), leaf); err != nil {
			die("%v", err)
		}
	case "check-tree":
		old, new := hashes(args[1:2])[0], hashes(args[3:4])[0]
		if err := tlog.CheckTree(hashes(args[4:]), num(args[2]), new, num(args[0]), old); err != nil {
			die("%v", err)
		}
	case "tiles":
		v, err := note.NewVerifier(args[1])
		if err != nil {
			die("%v", err)
		}
		n, err := note.Open(read(filepath.Join(args[0], "checkpoint")), note.VerifierList(v))
		if err != nil {
			die("%v", err)
		}
		lines := strings.Split(n.Text, "\n")
		if len(lines) < 4 || lines[0] != v.Name() {
			die("not a checkpoint of %s", v.Name())
		}
		tree := tlog.Tree{N: num(lines[1])}
		if tree.Hash, err = tlog.ParseHash(lines[2]); err != nil {
			die("%v", err)
		}
		hr := tlog.TileHashReader(tree, c2spTiles{args[0]})
		h, err := tlog.TreeHash(tree.N, hr)
		if err != nil {
			die("%v", err)
		}
		if h != tree.Hash {
			die("tiles give root %v, the checkpoint says %v", h, tree.Hash)
		}
		for _, a := range args[2:] {
			fmt.Println("-")
			printProof(tlog.ProveRecord(tree.N, num(a), hr))
		}
	default:
		die("unknown command %q", os.Args[1])
	}
}

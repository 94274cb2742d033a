// c2sp.org/tlog-tiles: the log's Merkle tree stored as tiles of 256 hashes, so that any root
// or proof can be computed reading O(log n) small files, and the log can be served (or
// mirrored through git) as static files.
//
//   tile/<L>/<N>[.p/<W>]   N in 3-digit path elements, all but the last prefixed "x"
//                          (1234067 -> x001/x234/067); W = 1..255 for a partial tile
//
// Tile (L, N) holds MTH(D[(N*256 + i) * 256^L : (N*256 + i + 1) * 256^L]) for i = 0..255,
// each 32 bytes; level 0 holds leaf hashes. For a tree of size s the rightmost tile of level
// L is partial with floor(s / 256^L) mod 256 hashes. formats/tlog/tlog.md is the spec page.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "formats/tlog/merkle.h"
#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::formats::tlog {

inline constexpr unsigned kTileHeight = 8;
inline constexpr unsigned kTileWidth = 256;  // hashes in a full tile
inline constexpr size_t kFullTileSize = kTileWidth * 32;

// "x001/x234/067": the tile index as c2sp encodes it in paths.
std::string TileIndexPath(uint64_t index);
// "tile/<level>/<index path>" with ".p/<width>" when width < 256 (width 1..256).
std::string TilePath(unsigned level, uint64_t index, unsigned width);

// The width of tile (level, index) in a tree of `size` leaves: 256 when full, 1..255 when
// it is the partial rightmost one, 0 when the tree has no such tile.
unsigned TileWidthAt(uint64_t size, unsigned level, uint64_t index);

// One tile: where it goes and its bytes (width * 32).
struct Tile {
  unsigned level = 0;
  uint64_t index = 0;
  unsigned width = 0;
  Bytes data;
  std::string Path() const { return TilePath(level, index, width); }
};

// Reads a tile's bytes by path (a git tree, a directory, a web server). It must return
// exactly what is stored; TileHashes checks the size.
using TileReader = std::function<Result<Bytes>(const std::string& path)>;

// The hashes of a tree of `size` leaves, read from its tiles through `read` and kept once
// read. Subtree() reads one tile: the hashes at the nearest tile level below, hashed up.
// A tile of the wrong length is kMalformed: tiles come from caches and remotes, and a wrong
// hash in one makes the roots and proofs computed from it fail to verify, nothing more.
class TileHashes final : public HashSource {
 public:
  TileHashes(uint64_t size, TileReader read) : size_(size), read_(std::move(read)) {}
  Result<Hash> Subtree(uint64_t start, unsigned height) override;
  uint64_t size() const { return size_; }
  // The hashes of one tile of this tree (its width from the tree size).
  Result<std::span<const Hash>> Read(unsigned level, uint64_t index);

 private:
  uint64_t size_;
  TileReader read_;
  std::map<std::pair<unsigned, uint64_t>, std::vector<Hash>> tiles_;
};

// The tiles that change when `new_leaves` (leaf hashes) are appended to the tree `old`
// holds (old.size() leaves): every tile at every level that gains a hash, full or partial,
// in the order level, index. A tile that was partial and is rewritten keeps its index and
// gets a new width (so a new path); the caller may drop the old partial one.
Result<std::vector<Tile>> AppendTiles(TileHashes& old, std::span<const Hash> new_leaves);

}  // namespace vouch::formats::tlog

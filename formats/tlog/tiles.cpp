#include "formats/tlog/tiles.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace vouch::formats::tlog {
namespace {

// How many hashes level `level` has in a tree of `size` leaves: floor(size / 256^level).
uint64_t HashesAtLevel(uint64_t size, unsigned level) {
  if (level * kTileHeight >= 64) return 0;
  return size >> (level * kTileHeight);
}

std::vector<Hash> Split(ByteView data) {
  std::vector<Hash> out(data.size() / 32);
  for (size_t i = 0; i < out.size(); ++i) std::memcpy(out[i].data(), data.data() + i * 32, 32);
  return out;
}

}  // namespace

std::string TileIndexPath(uint64_t index) {
  // Groups of three digits, most significant first; all but the last get an "x".
  std::vector<unsigned> groups;
  do {
    groups.push_back(static_cast<unsigned>(index % 1000));
    index /= 1000;
  } while (index != 0);
  std::string out;
  for (size_t i = groups.size(); i-- > 0;) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%s%03u", i == 0 ? "" : "x", groups[i]);
    out += buf;
    if (i != 0) out += '/';
  }
  return out;
}

std::string TilePath(unsigned level, uint64_t index, unsigned width) {
  std::string p = "tile/" + std::to_string(level) + "/" + TileIndexPath(index);
  if (width < kTileWidth) p += ".p/" + std::to_string(width);
  return p;
}

unsigned TileWidthAt(uint64_t size, unsigned level, uint64_t index) {
  const uint64_t n = HashesAtLevel(size, level);
  if (index >= n / kTileWidth + (n % kTileWidth != 0)) return 0;
  if ((index + 1) * kTileWidth <= n) return kTileWidth;
  return static_cast<unsigned>(n % kTileWidth);
}

Result<std::span<const Hash>> TileHashes::Read(unsigned level, uint64_t index) {
  auto key = std::make_pair(level, index);
  if (auto it = tiles_.find(key); it != tiles_.end()) return std::span<const Hash>(it->second);
  const unsigned width = TileWidthAt(size_, level, index);
  if (width == 0) {
    return Error(Code::kUsage, "tile " + std::to_string(level) + "/" + std::to_string(index) + " is outside a tree of " +
                                   std::to_string(size_));
  }
  const std::string path = TilePath(level, index, width);
  VOUCH_ASSIGN_OR_RETURN(Bytes data, read_(path));
  if (data.size() != size_t{width} * 32) {
    return Error(Code::kMalformed, path + ": " + std::to_string(data.size()) + " bytes where a tile of " +
                                       std::to_string(width) + " hashes has " + std::to_string(width * 32));
  }
  auto [it, inserted] = tiles_.emplace(key, Split(data));
  return std::span<const Hash>(it->second);
}

Result<Hash> TileHashes::Subtree(uint64_t start, unsigned height) {
  if (height >= 64 || (start >> height) << height != start || start + (uint64_t{1} << height) > size_ ||
      start + (uint64_t{1} << height) < start) {
    return Error(Code::kInternal, "subtree at " + std::to_string(start) + " of height " + std::to_string(height) +
                                      " is not a complete subtree of a tree of " + std::to_string(size_));
  }
  // The hashes at the tile level just below: 2^(height mod 8) of them, all in one tile
  // (they are aligned on their count, which divides 256).
  const unsigned level = height / kTileHeight;
  const unsigned rest = height % kTileHeight;
  const uint64_t first = start >> (level * kTileHeight);
  const uint64_t count = uint64_t{1} << rest;
  VOUCH_ASSIGN_OR_RETURN(std::span<const Hash> tile, Read(level, first / kTileWidth));
  const uint64_t offset = first % kTileWidth;
  if (offset + count > tile.size()) return Error(Code::kInternal, "subtree hashes past the end of their tile");
  return TreeRoot(tile.subspan(offset, count));
}

Result<std::vector<Tile>> AppendTiles(TileHashes& old, std::span<const Hash> new_leaves) {
  const uint64_t old_size = old.size();
  const uint64_t new_size = old_size + new_leaves.size();
  if (new_size < old_size) return Error(Code::kTooLarge, "the log would pass 2^64 leaves");
  std::vector<Tile> out;
  // The hashes new at this level, starting at index HashesAtLevel(old_size, level).
  std::vector<Hash> fresh(new_leaves.begin(), new_leaves.end());
  for (unsigned level = 0; !fresh.empty(); ++level) {
    const uint64_t old_count = HashesAtLevel(old_size, level);
    // The old partial tile of this level, if any, is the start of the first tile written.
    std::vector<Hash> run;
    uint64_t tile_index = old_count / kTileWidth;
    if (old_count % kTileWidth != 0) {
      VOUCH_ASSIGN_OR_RETURN(std::span<const Hash> partial, old.Read(level, tile_index));
      run.assign(partial.begin(), partial.end());
    }
    run.insert(run.end(), fresh.begin(), fresh.end());
    std::vector<Hash> up;  // the next level's new hashes: roots of tiles that became full
    for (size_t at = 0; at < run.size(); at += kTileWidth, ++tile_index) {
      const size_t width = std::min<size_t>(kTileWidth, run.size() - at);
      Tile t;
      t.level = level;
      t.index = tile_index;
      t.width = static_cast<unsigned>(width);
      t.data.resize(width * 32);
      for (size_t i = 0; i < width; ++i) std::memcpy(t.data.data() + i * 32, run[at + i].data(), 32);
      if (width == kTileWidth) {
        VOUCH_ASSIGN_OR_RETURN(Hash root, TreeRoot(std::span<const Hash>(run).subspan(at, width)));
        up.push_back(root);
      }
      out.push_back(std::move(t));
    }
    fresh = std::move(up);
  }
  return out;
}

}  // namespace vouch::formats::tlog

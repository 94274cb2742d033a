// A git cache copied to a stick (`*.git`) read as a medium: the device's own directory on
// the vouchers branch, nothing else, never written. Only the confined medium reader calls
// this (device/reader/), and it reads the repository the way a hostile-input reader must:
//
//  - libgit2 never opens the repository as a repository: no config (so no include, no FIFO
//    as config), no HEAD, no refdb. Only an object database over `objects/` is opened, and
//    the one ref vouch needs is read by hand from a small regular file.
//  - Before libgit2 sees anything, every entry under `objects/` and `refs/` is checked to
//    be a regular file or a directory (no link, FIFO, socket or device), and capped in count
//    and size; alternates and multi-pack indexes, which redirect reads, are refused.
//  - Every object's type and size is read from its header before the object is: the tip
//    commit, each tree on the way down to the device's directory, each voucher blob.
//    That walk is device_directory.h's, the same one Cache::Get reads a cache with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/bundle.h"
#include "libvoucher/status.h"

namespace vouch::cache::git {

struct MediumLimits {
  uint64_t max_voucher = 64 * 1024;      // a voucher blob
  uint64_t max_proof = 64 * 1024;        // a proof blob beside a voucher (tlog::kMaxProofSize)
  size_t max_vouchers = 4096;            // blobs read from the device's directory
  size_t max_files = 100000;             // entries under objects/ and refs/
  uint64_t max_loose_object = 1 << 20;   // one loose object file (compressed)
  size_t max_packs = 64;                 // pack files
  uint64_t max_pack_bytes = 2ull << 30;  // all pack files together
  uint64_t max_index = 64ull << 20;      // one pack index
  uint64_t max_ref_file = 256;           // refs/heads/vouchers
  uint64_t max_packed_refs = 1 << 20;    // packed-refs
  uint64_t max_commit = 64 * 1024;       // the tip commit, message included
  uint64_t max_tree = 1 << 20;           // each tree on the path to the device's directory
};

// Process-wide libgit2 settings for reading hostile repositories: no system, global or XDG
// configuration, small pack windows, few open packs. Call once before any reader work.
void ConfigureForMedia();

// Reads the vouchers filed under `device_udf` on the branch of the cache whose directory is
// open as `repo_fd` (the caller's), each with its log proof when the tree holds one beside
// it. `what` names it in messages. Refusals: kUnsupported (a link, FIFO or redirect),
// kTooLarge (a cap), kMalformed (not a cache), kIdMismatch.
Result<std::vector<formats::PackedVoucher>> ReadDevice(int repo_fd, const std::string& what, std::string_view device_udf,
                                                       const MediumLimits& limits = {});

}  // namespace vouch::cache::git

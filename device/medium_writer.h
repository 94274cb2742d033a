// Writing one new file on a medium someone else controls: the only write vouch-device makes
// outside its state directory (enrollment receipts, DESIGN.md 9a; the threat model is in
// docs/device-state.md, "Receipts on a medium").
//
// Whoever had the stick chose everything on it: links, FIFOs, devices, files where
// directories should be, a full or read-only filesystem. This process holds device.key, so it
// reads and parses nothing from the medium: it only creates its own path, one component at a
// time, relative to descriptors it opened itself, and never follows a link anywhere.
#pragma once

#include <filesystem>
#include <string_view>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::device {

// Creates the file `relative` ('/'-separated plain names: none empty, "." or "..") below the
// directory `root` and writes `bytes` (at most `cap`) into it, durably: missing directories
// are made (0755), the bytes go to a temporary name created exclusively (0644) and fsynced,
// are hard-linked to the final name (renamed without replacing on filesystems without hard
// links, FAT), the temporary name is removed and the directory fsynced. Never replaces or
// truncates anything; on any failure the temporary file is removed (directories it made stay,
// empty). Errors:
//   kSymlinkEntry  root, or any component of its path below root, is a symbolic link;
//   kExists        something (a file, a FIFO, a directory) already has the final name: left as it is;
//   kIo            root or a component is not a directory, or cannot be made or written
//                  (a read-only or full filesystem, no permission);
//   kTooLarge      bytes over cap;  kUsage  `relative` is not plain names.
Status WriteNewFile(const std::filesystem::path& root, std::string_view relative, ByteView bytes, size_t cap);

}  // namespace vouch::device

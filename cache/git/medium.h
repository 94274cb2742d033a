// A git cache copied to a stick (`*.git`) read as a medium: the device's own directory on
// the vouchers branch, nothing else, never written.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "formats/bundle.h"
#include "libvoucher/status.h"

namespace vouch::cache::git {

// Refuses (kUnsupported) a repository that could make libgit2 read outside it: object
// alternates, a common directory, `objects` or `refs` that are links. Blobs over
// `max_voucher` are kTooLarge; a name that is not `<ID>.<ext>` of its bytes is kIdMismatch.
// `what` names the repository in messages (`repo` may be a /proc/self/fd path).
Result<std::vector<formats::PackedVoucher>> ReadDevice(const std::filesystem::path& repo, const std::string& what,
                                                       std::string_view device_udf, uint64_t max_voucher,
                                                       size_t max_vouchers);

}  // namespace vouch::cache::git

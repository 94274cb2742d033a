#include "cache/sources.h"

#include <filesystem>

#include "cache/parallel.h"
#include "formats/bundle.h"
#include "formats/envelope.h"
#include "formats/voucher_json.h"
#include "libvoucher/file.h"

namespace vouch::cache {
namespace fs = std::filesystem;

namespace {

void AddBundle(const fs::path& p, std::vector<Offered>* out, std::vector<CandidateReport>* refused) {
  auto b = formats::Bundle::Open(p);
  auto all = b.ok() ? b->ReadAll() : Result<std::vector<formats::PackedVoucher>>(b.status());
  if (!all.ok()) {
    refused->push_back({p.string(), "", "", all.status(), false, false});
    return;
  }
  for (auto& v : *all) out->push_back({p.string() + ":" + v.path, v.path, std::move(v.bytes)});
}

}  // namespace

Result<std::vector<Offered>> GatherSources(const std::vector<std::string>& inputs, std::vector<CandidateReport>* refused) {
  std::vector<Offered> out;
  std::vector<fs::path> files;  // loose voucher files, read below in parallel
  for (const auto& in : inputs) {
    fs::path p(in);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (auto it = fs::recursive_directory_iterator(p, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) return Error(Code::kIo, in + ": " + ec.message());
        if (it->is_symlink() || !it->is_regular_file()) continue;
        const fs::path& f = it->path();
        if (f.extension() == ".vbundle") AddBundle(f, &out, refused);
        else if (formats::KindFromExtension(f.extension().string())) files.push_back(f);
      }
    } else if (p.extension() == ".vbundle") {
      AddBundle(p, &out, refused);
    } else if (fs::exists(p, ec)) {
      files.push_back(p);
    } else {
      return Error(Code::kNotFound, in + ": no such file or directory");
    }
  }
  std::vector<Result<Bytes>> read(files.size(), Result<Bytes>(Bytes()));
  ParallelFor(files.size(), [&](size_t i) { read[i] = ReadFile(files[i], formats::kMaxVoucherSize, false); });
  for (size_t i = 0; i < files.size(); ++i) {
    if (!read[i].ok()) refused->push_back({files[i].string(), "", "", read[i].status(), false, false});
    else out.push_back({files[i].string(), "", std::move(*read[i])});
  }
  return out;
}

}  // namespace vouch::cache

#include "cache/git/medium.h"

#include <sys/stat.h>

#include "cache/git/git.h"
#include "cache/git/store.h"
#include "formats/layout.h"

namespace vouch::cache::git {
namespace fs = std::filesystem;

Result<std::vector<formats::PackedVoucher>> ReadDevice(const fs::path& repo_path, const std::string& what,
                                                       std::string_view device_udf, uint64_t max_voucher,
                                                       size_t max_vouchers) {
  Init();
  for (const char* redirect : {"objects/info/alternates", "objects/info/http-alternates", "commondir", "gitdir"}) {
    struct stat st;
    if (::lstat((repo_path / redirect).c_str(), &st) == 0) {
      return Error(Code::kUnsupported, what + ": has " + redirect + ", which could lead outside the medium");
    }
  }
  for (const char* dir : {"objects", "refs"}) {
    struct stat st;
    if (::lstat((repo_path / dir).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Error(Code::kUnsupported, what + ": " + dir + " is not a plain directory");
    }
  }
  // libgit2 would follow a link anywhere inside (a pack linked to a file elsewhere on the
  // device); none is allowed, and the look is bounded like the rest of the scan.
  size_t seen = 0;
  for (const char* dir : {"objects", "refs", "HEAD", "packed-refs", "config"}) {
    std::error_code ec;
    fs::path top = repo_path / dir;
    if (fs::is_symlink(top, ec)) return Error(Code::kUnsupported, what + ": " + dir + " is a link");
    if (!fs::is_directory(fs::symlink_status(top, ec))) continue;
    for (auto it = fs::recursive_directory_iterator(top, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (++seen > 100000) return Error(Code::kTooLarge, what + ": more than 100,000 files in objects/ and refs/");
      if (it->is_symlink()) return Error(Code::kUnsupported, what + ": " + it->path().filename().string() + " is a link");
    }
  }
  git_repository* r = nullptr;
  unsigned flags = GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE | GIT_REPOSITORY_OPEN_NO_DOTGIT;
  if (git_repository_open_ext(&r, repo_path.c_str(), flags, nullptr) != 0) return Fail(Code::kMalformed, what);
  RepoPtr repo(r);
  std::vector<formats::PackedVoucher> out;
  VOUCH_ASSIGN_OR_RETURN(std::optional<git_oid> tip, ResolveRef(r, "refs/heads/vouchers"));
  if (!tip) return out;
  VOUCH_ASSIGN_OR_RETURN(TreePtr root, TreeOf(r, *tip));
  VOUCH_ASSIGN_OR_RETURN(std::string dir, formats::DeviceDirectory(device_udf));
  git_tree_entry* e = nullptr;
  if (git_tree_entry_bypath(&e, root.get(), dir.c_str()) != 0) {
    git_error_clear();
    return out;
  }
  TreeEntryPtr entry(e);
  if (git_tree_entry_type(e) != GIT_OBJECT_TREE) return Error(Code::kMalformed, what + ": " + dir + " is not a directory");
  git_tree* t = nullptr;
  if (git_tree_lookup(&t, r, git_tree_entry_id(e)) != 0) return Fail(Code::kMalformed, what + ": " + dir);
  TreePtr tree(t);
  for (size_t i = 0; i < git_tree_entrycount(t) && out.size() < max_vouchers; ++i) {
    const git_tree_entry* f = git_tree_entry_byindex(t, i);
    std::string path = dir + "/" + git_tree_entry_name(f);
    auto layout = formats::ParseLayoutPath(path);
    if (!layout.ok() || git_tree_entry_filemode(f) != GIT_FILEMODE_BLOB) continue;  // not a voucher file
    // The object header says the size; refuse before inflating anything big.
    git_odb* odb = nullptr;
    if (git_repository_odb(&odb, r) != 0) return Fail(Code::kIo, what);
    OdbPtr odb_owned(odb);
    size_t size = 0;
    git_object_t type;
    if (git_odb_read_header(&size, &type, odb, git_tree_entry_id(f)) != 0) return Fail(Code::kMalformed, what + ": " + path);
    if (size > max_voucher) return Error(Code::kTooLarge, what + ": " + path + " is " + std::to_string(size) + " bytes, over the cap");
    git_blob* b = nullptr;
    if (git_blob_lookup(&b, r, git_tree_entry_id(f)) != 0) return Fail(Code::kMalformed, what + ": " + path);
    BlobPtr blob(b);
    const auto* p = static_cast<const uint8_t*>(git_blob_rawcontent(b));
    Bytes bytes(p, p + git_blob_rawsize(b));
    if (formats::VoucherId(layout->kind, bytes) != layout->voucher_id) {
      return Error(Code::kIdMismatch, what + ": " + path + ": bytes do not have the id they are filed under");
    }
    out.push_back({path, std::move(bytes)});
  }
  return out;
}

}  // namespace vouch::cache::git

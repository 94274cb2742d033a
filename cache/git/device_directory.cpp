#include "cache/git/device_directory.h"

#include "cache/git/git.h"
#include "formats/layout.h"

namespace vouch::cache::git {
namespace {

// The object's type and size from its header, checked before anything reads the object.
Status CheckHeader(git_odb* odb, const git_oid& id, git_object_t want, uint64_t cap, const std::string& what,
                   const std::string& name) {
  size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  if (git_odb_read_header(&size, &type, odb, &id) != 0) return Fail(Code::kMalformed, what + ": " + name);
  if (type != want) return Error(Code::kMalformed, what + ": " + name + " is a " + git_object_type2string(type));
  if (size > cap) {
    return Error(Code::kTooLarge, what + ": " + name + " is " + std::to_string(size) + " bytes, over the cap of " + std::to_string(cap));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<formats::PackedVoucher>> ReadDeviceDirectory(const Repository& repo, const ObjectId& tip_id,
                                                                std::string_view device_udf,
                                                                const DirectoryLimits& limits, const std::string& what) {
  std::vector<formats::PackedVoucher> out;
  git_repository* r = repo.handle();
  git_odb* o = nullptr;
  if (git_repository_odb(&o, r) != 0) return Fail(Code::kIo, what + ": object database");
  OdbPtr odb(o);
  git_oid tip = OidOf(tip_id);

  VOUCH_RETURN_IF_ERROR(CheckHeader(o, tip, GIT_OBJECT_COMMIT, limits.max_commit, what, "the branch's tip commit"));
  git_commit* c = nullptr;
  if (git_commit_lookup(&c, r, &tip) != 0) return Fail(Code::kMalformed, what + ": tip commit");
  CommitPtr commit(c);
  git_oid tree_id = *git_commit_tree_id(c);

  // Down the layout path one tree at a time, each checked from its header before it is read.
  VOUCH_ASSIGN_OR_RETURN(std::string dir, formats::DeviceDirectory(device_udf));
  std::string walked;
  size_t start = 0;
  for (;;) {
    VOUCH_RETURN_IF_ERROR(CheckHeader(o, tree_id, GIT_OBJECT_TREE, limits.max_tree, what, walked.empty() ? "root tree" : walked));
    if (start > dir.size()) break;
    size_t slash = dir.find('/', start);
    std::string part = dir.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    start = slash == std::string::npos ? dir.size() + 1 : slash + 1;
    git_tree* t = nullptr;
    if (git_tree_lookup(&t, r, &tree_id) != 0) return Fail(Code::kMalformed, what + ": tree " + walked);
    TreePtr tree(t);
    const git_tree_entry* e = git_tree_entry_byname(t, part.c_str());
    walked += (walked.empty() ? "" : "/") + part;
    if (!e) return out;  // nothing for this device
    if (git_tree_entry_type(e) != GIT_OBJECT_TREE) return Error(Code::kMalformed, what + ": " + walked + " is not a directory");
    tree_id = *git_tree_entry_id(e);
  }
  git_tree* t = nullptr;
  if (git_tree_lookup(&t, r, &tree_id) != 0) return Fail(Code::kMalformed, what + ": " + dir);
  TreePtr tree(t);
  for (size_t i = 0; i < git_tree_entrycount(t) && out.size() < limits.max_vouchers; ++i) {
    const git_tree_entry* f = git_tree_entry_byindex(t, i);
    std::string path = dir + "/" + git_tree_entry_name(f);
    auto layout = formats::ParseLayoutPath(path);
    if (!layout.ok() || git_tree_entry_filemode(f) != GIT_FILEMODE_BLOB) continue;  // not a voucher file
    VOUCH_RETURN_IF_ERROR(CheckHeader(o, *git_tree_entry_id(f), GIT_OBJECT_BLOB, limits.max_voucher, what, path));
    git_blob* b = nullptr;
    if (git_blob_lookup(&b, r, git_tree_entry_id(f)) != 0) return Fail(Code::kMalformed, what + ": " + path);
    BlobPtr blob(b);
    const auto* p = static_cast<const uint8_t*>(git_blob_rawcontent(b));
    Bytes bytes(p, p + git_blob_rawsize(b));
    VOUCH_ASSIGN_OR_RETURN(formats::Envelope filed, formats::CheckFiled(*layout, std::move(bytes), what + ": " + path));
    formats::PackedVoucher v{path, std::move(filed.bytes)};
    // Its proof, by name; checked from its header like a voucher blob. Not a blob: no proof.
    const std::string proof_name = std::string(git_tree_entry_name(f)) + std::string(formats::kProofSuffix);
    const git_tree_entry* pe = git_tree_entry_byname(t, proof_name.c_str());
    if (pe && git_tree_entry_filemode(pe) == GIT_FILEMODE_BLOB) {
      const std::string proof_path = path + std::string(formats::kProofSuffix);
      VOUCH_RETURN_IF_ERROR(CheckHeader(o, *git_tree_entry_id(pe), GIT_OBJECT_BLOB, limits.max_proof, what, proof_path));
      git_blob* pb = nullptr;
      if (git_blob_lookup(&pb, r, git_tree_entry_id(pe)) != 0) return Fail(Code::kMalformed, what + ": " + proof_path);
      BlobPtr proof_blob(pb);
      const auto* q = static_cast<const uint8_t*>(git_blob_rawcontent(pb));
      v.proof = Bytes(q, q + git_blob_rawsize(pb));
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace vouch::cache::git

#include "cache/git/object_id.h"

#include "cache/git/git.h"

namespace vouch::cache::git {

Result<ObjectId> ObjectId::FromHex(const std::string& hex) {
  Init();
  git_oid oid;
  if (git_oid_fromstr(&oid, hex.c_str()) != 0) return Fail(Code::kInternal, "object id " + hex);
  return IdOf(oid);
}

ObjectId ObjectId::OfBlob(ByteView bytes) {
  Init();  // the hash may be OpenSSL's, which libgit2 sets up at start-up
  git_oid oid;
  git_odb_hash(&oid, bytes.data(), bytes.size(), GIT_OBJECT_BLOB);
  return IdOf(oid);
}

std::string ObjectId::Hex() const { return OidText(OidOf(*this)); }

}  // namespace vouch::cache::git

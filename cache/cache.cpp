#include "cache/cache.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>

#include "cache/git/git.h"
#include "cache/parallel.h"
#include "cache/git/staging.h"
#include "cache/git/store.h"
#include "formats/layout.h"
#include "formats/voucher_json.h"
#include "libvoucher/file.h"

namespace vouch::cache {
namespace fs = std::filesystem;

struct StagingState {
  git::Staging staging;
};

namespace {

constexpr int kMaxCasAttempts = 64;

Result<git_oid> ParseOid(const std::string& hex) {
  git_oid oid;
  if (git_oid_fromstr(&oid, hex.c_str()) != 0) return git::Fail(Code::kInternal, "object id " + hex);
  return oid;
}

Result<Bytes> BlobBytes(git_repository* repo, const git_oid& oid, uint64_t cap) {
  git_blob* b = nullptr;
  if (git_blob_lookup(&b, repo, &oid) != 0) return git::Fail(Code::kMalformed, "blob " + git::OidText(oid));
  git::BlobPtr blob(b);
  if (static_cast<uint64_t>(git_blob_rawsize(b)) > cap) return Error(Code::kTooLarge, "blob " + git::OidText(oid) + " is over the voucher cap");
  const auto* p = static_cast<const uint8_t*>(git_blob_rawcontent(b));
  return Bytes(p, p + git_blob_rawsize(b));
}

}  // namespace

fs::path Cache::DefaultPath() {
  if (const char* c = std::getenv("VOUCH_CACHE"); c && *c) return c;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return fs::path(x) / "vouch" / "cache.git";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".local" / "share" / "vouch" / "cache.git";
}

Cache::Cache(Cache&& o) noexcept { *this = std::move(o); }
Cache& Cache::operator=(Cache&& o) noexcept {
  std::swap(repo_, o.repo_);
  std::swap(path_, o.path_);
  std::swap(anchors_, o.anchors_);
  std::swap(staging_, o.staging_);
  return *this;
}
Cache::~Cache() {
  staging_.reset();  // the staging repository reads through this one: it goes first
  if (repo_) git_repository_free(repo_);
}

Result<Cache> Cache::Init(const fs::path& path, const std::vector<Certificate>& anchors) {
  git::Init();
  std::error_code ec;
  if (!fs::exists(path / "vouch")) {
    if (fs::exists(path) && !fs::is_empty(path, ec) && !fs::exists(path / "HEAD")) {
      return Error(Code::kExists, path.string() + ": exists and is not a cache");
    }
    git_repository* r = nullptr;
    if (git_repository_init(&r, path.c_str(), /*is_bare=*/1) != 0) return git::Fail(Code::kIo, path.string());
    git::RepoPtr repo(r);
    // HEAD names the vouchers branch, so `git log` and `git clone` of a cache show it.
    if (git_repository_set_head(r, std::string(kBranch).c_str()) != 0) return git::Fail(Code::kIo, "HEAD");
    fs::create_directories(path / "vouch", ec);
    if (ec) return Error(Code::kIo, (path / "vouch").string() + ": " + ec.message());
  }
  VOUCH_RETURN_IF_ERROR(git::Staging::Configure(path.string()));
  if (!anchors.empty()) VOUCH_RETURN_IF_ERROR(SaveCertificates(path / "vouch" / "trust.pem", anchors));
  return Open(path);
}

Result<Cache> Cache::Open(const fs::path& path) {
  git::Init();
  Cache c;
  c.path_ = path;
  if (!fs::exists(path / "vouch")) return Error(Code::kNotFound, path.string() + ": not a vouch cache (run vouch cache init)");
  if (git_repository_open_ext(&c.repo_, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE, nullptr) != 0) {
    return git::Fail(Code::kIo, path.string());
  }
  if (fs::exists(path / "vouch" / "trust.pem")) {
    VOUCH_ASSIGN_OR_RETURN(c.anchors_, LoadCertificates(path / "vouch" / "trust.pem"));
  }
  return c;
}

Result<git::Staging*> Cache::Staging() {
  // Made on the first write: reading commands never need it.
  if (!staging_) {
    VOUCH_ASSIGN_OR_RETURN(git::Staging s, git::Staging::Begin(repo_));
    staging_ = std::make_unique<StagingState>(StagingState{std::move(s)});
  }
  return &staging_->staging;
}

Result<std::string> Cache::CheckVoucher(const std::string& filed_at, ByteView bytes) const {
  // Identified once: by the path it was filed at (its id checked), or from its bytes.
  std::optional<formats::LayoutEntry> filed;
  formats::Envelope envelope;
  if (!filed_at.empty()) {
    auto entry = formats::ParseLayoutPath(filed_at);
    if (!entry.ok()) return Error(Code::kUnsafePath, entry.status().message());
    VOUCH_ASSIGN_OR_RETURN(envelope, formats::CheckFiled(*entry, Bytes(bytes.begin(), bytes.end()), filed_at));
    filed = std::move(*entry);
  } else {
    VOUCH_ASSIGN_OR_RETURN(envelope, formats::Identify(Bytes(bytes.begin(), bytes.end())));
  }
  // Parsed once: verified (with anchors) or only decoded, then filed by the device key inside.
  formats::LayoutEntry own;
  if (!anchors_.empty()) {
    // An archive keeps old vouchers: signatures and paths are checked, validity periods not.
    auto v = formats::VerifyVoucher(envelope, anchors_, TimePolicy::None());
    if (!v.ok()) return v.status().Context(filed_at.empty() ? "voucher " + envelope.id : filed_at);
    VOUCH_ASSIGN_OR_RETURN(own, formats::LayoutEntryOf(envelope, v->voucher));
  } else {
    VOUCH_ASSIGN_OR_RETURN(own, formats::LayoutEntryOf(envelope));
  }
  if (filed && own.device_udf != filed->device_udf) {
    return Error(Code::kWrongDevice, filed_at + ": the voucher inside is for another device");
  }
  return formats::LayoutPath(own);
}

Result<std::string> Cache::CommitOnTip(const std::map<std::string, git_oid>& entries,
                                       const std::optional<std::string>& merge_parent, const std::string& message,
                                       size_t* added) {
  VOUCH_ASSIGN_OR_RETURN(git::CacheLock lock, git::CacheLock::Take(path_.string(), git::CacheLock::Mode::kShared));
  VOUCH_ASSIGN_OR_RETURN(git::Staging* staging, Staging());
  std::mt19937 rng(std::random_device{}());
  for (int attempt = 0; attempt < kMaxCasAttempts; ++attempt) {
    VOUCH_ASSIGN_OR_RETURN(std::optional<git_oid> tip, git::ResolveRef(repo_, std::string(kBranch).c_str()));
    git::TreePtr base;
    if (tip) {
      VOUCH_ASSIGN_OR_RETURN(base, git::TreeOf(repo_, *tip));
    }
    // What is new against the tip as it is now (another writer may have added some):
    // pointers into `entries`, still in path order.
    std::vector<const git::PathEntry*> fresh;
    for (const auto& entry : entries) {
      git_tree_entry* e = nullptr;
      if (base && git_tree_entry_bypath(&e, base.get(), entry.first.c_str()) == 0) {
        git::TreeEntryPtr owned(e);
        if (!git_oid_equal(git_tree_entry_id(e), &entry.second)) {
          return Error(Code::kIdMismatch, entry.first + " is in the cache with other bytes");
        }
        continue;
      }
      git_error_clear();
      fresh.push_back(&entry);
    }
    *added = fresh.size();
    std::vector<git_oid> parents;
    if (tip) parents.push_back(*tip);
    if (merge_parent) {
      VOUCH_ASSIGN_OR_RETURN(git_oid mp, ParseOid(*merge_parent));
      VOUCH_ASSIGN_OR_RETURN(bool contained, tip ? git::IsAncestor(repo_, mp, *tip) : Result<bool>(false));
      if (!contained) parents.push_back(mp);
    }
    if (fresh.empty() && parents.size() < 2) {
      VOUCH_RETURN_IF_ERROR(staging->Flush());  // blobs of duplicates: harmless, keep them packed
      return tip ? git::OidText(*tip) : std::string();
    }
    std::vector<git_oid> trees;
    VOUCH_ASSIGN_OR_RETURN(git_oid tree, git::InsertPaths(staging->repo(), base.get(), fresh, &trees));
    for (const auto& t : trees) staging->Record(t);
    VOUCH_ASSIGN_OR_RETURN(git_oid commit, git::MakeCommit(staging->repo(), tree, parents, message));
    staging->Record(commit);
    VOUCH_RETURN_IF_ERROR(staging->Flush());
    Status cas = git::CompareAndSwap(repo_, std::string(kBranch).c_str(), commit, tip, message.substr(0, message.find('\n')));
    if (cas.ok()) return git::OidText(commit);
    if (cas.code() != Code::kExists) return cas;
    // Lost the race: back off a little, rebuild on the new tip.
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + rng() % (5 + attempt * 5)));
  }
  return Error(Code::kIo, "the vouchers branch kept moving; gave up after " + std::to_string(kMaxCasAttempts) + " attempts");
}

Result<AddReport> Cache::Add(const OfferedBatches& next, const std::string& source) {
  AddReport report;
  // What the branch holds now: vouchers already there are counted, not written again.
  VOUCH_ASSIGN_OR_RETURN(std::optional<git_oid> tip, git::ResolveRef(repo_, std::string(kBranch).c_str()));
  git::TreePtr base;
  if (tip) {
    VOUCH_ASSIGN_OR_RETURN(base, git::TreeOf(repo_, *tip));
  }
  struct Checked {
    Result<std::string> path = std::string();
    git_oid blob{};
  };
  VOUCH_ASSIGN_OR_RETURN(git::Staging* staging, Staging());
  std::map<std::string, git_oid> entries;  // layout path -> blob id, new in this import
  std::vector<Offered> batch;
  std::vector<Checked> checked;
  for (;;) {
    VOUCH_ASSIGN_OR_RETURN(bool more, next(&batch));
    if (!more) break;
    // Checking is most of an import's work (decoding, hashing, signatures) and each voucher
    // stands alone, so it runs on every core; writing objects stays on this thread.
    checked.assign(batch.size(), Checked{});
    ParallelFor(batch.size(), [&](size_t i) {
      const Offered& v = batch[i];
      checked[i].path = CheckVoucher(v.path, v.bytes);
      if (checked[i].path.ok()) git_odb_hash(&checked[i].blob, v.bytes.data(), v.bytes.size(), GIT_OBJECT_BLOB);
    });
    for (size_t i = 0; i < batch.size(); ++i) {
      const Offered& v = batch[i];
      Status s = checked[i].path.status();
      if (s.ok()) {
        const std::string& path = *checked[i].path;
        const git_oid& blob = checked[i].blob;
        if (entries.count(path)) {
          ++report.present;  // offered twice in this import
          continue;
        }
        git_tree_entry* e = nullptr;
        if (base && git_tree_entry_bypath(&e, base.get(), path.c_str()) == 0) {
          git::TreeEntryPtr owned(e);
          if (git_oid_equal(git_tree_entry_id(e), &blob)) {
            ++report.present;
            continue;
          }
          s = Error(Code::kIdMismatch, path + " is in the cache with other bytes");
        } else {
          git_error_clear();
          VOUCH_RETURN_IF_ERROR(staging->WriteBlob(blob, v.bytes));
          entries.emplace(path, blob);
          continue;
        }
      }
      CandidateReport r;
      r.source = v.source.empty() ? source : v.source;
      r.status = s;
      report.refused.push_back(std::move(r));
    }
  }
  if (entries.empty()) return report;
  size_t added = 0;
  std::string message = "vouch: add vouchers from " + source;
  VOUCH_ASSIGN_OR_RETURN(std::string new_tip, CommitOnTip(entries, std::nullopt, message, &added));
  report.added = added;
  report.present += entries.size() - added;  // another writer added them meanwhile
  if (added) report.commit = new_tip;
  // Consolidate when imports have left many packs, if nobody else is importing right now.
  std::error_code ec;
  size_t packs = 0;
  for (auto& e : fs::directory_iterator(path_ / "objects" / "pack", ec)) packs += e.path().extension() == ".pack";
  if (packs > kAutoGcPacks) (void)Gc();
  return report;
}

Result<std::optional<std::string>> Cache::Tip() const {
  VOUCH_ASSIGN_OR_RETURN(std::optional<git_oid> tip, git::ResolveRef(repo_, std::string(kBranch).c_str()));
  if (!tip) return std::optional<std::string>();
  return std::optional<std::string>(git::OidText(*tip));
}

Result<std::vector<formats::PackedVoucher>> Cache::Get(std::string_view device_udf) const {
  std::vector<formats::PackedVoucher> out;
  VOUCH_ASSIGN_OR_RETURN(std::string dir, formats::DeviceDirectory(device_udf));
  VOUCH_ASSIGN_OR_RETURN(std::optional<git_oid> tip, git::ResolveRef(repo_, std::string(kBranch).c_str()));
  if (!tip) return out;
  VOUCH_ASSIGN_OR_RETURN(git::TreePtr root, git::TreeOf(repo_, *tip));
  git_tree_entry* e = nullptr;
  if (git_tree_entry_bypath(&e, root.get(), dir.c_str()) != 0) {
    git_error_clear();
    return out;
  }
  git::TreeEntryPtr entry(e);
  git_tree* t = nullptr;
  if (git_tree_lookup(&t, repo_, git_tree_entry_id(e)) != 0) return git::Fail(Code::kMalformed, dir);
  git::TreePtr tree(t);
  for (size_t i = 0; i < git_tree_entrycount(t); ++i) {
    const git_tree_entry* f = git_tree_entry_byindex(t, i);
    std::string path = dir + "/" + git_tree_entry_name(f);
    VOUCH_ASSIGN_OR_RETURN(Bytes bytes, BlobBytes(repo_, *git_tree_entry_id(f), formats::kMaxVoucherSize));
    out.push_back({path, std::move(bytes)});
  }
  return out;
}

namespace {

struct WalkState {
  std::vector<std::string>* paths;
};

int CollectPath(const char* root, const git_tree_entry* e, void* payload) {
  if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
    static_cast<WalkState*>(payload)->paths->push_back(std::string(root) + git_tree_entry_name(e));
  }
  return 0;
}

}  // namespace

Result<std::vector<std::string>> Cache::List() const {
  std::vector<std::string> paths;
  VOUCH_ASSIGN_OR_RETURN(std::optional<git_oid> tip, git::ResolveRef(repo_, std::string(kBranch).c_str()));
  if (!tip) return paths;
  VOUCH_ASSIGN_OR_RETURN(git::TreePtr root, git::TreeOf(repo_, *tip));
  WalkState st{&paths};
  if (git_tree_walk(root.get(), GIT_TREEWALK_PRE, CollectPath, &st) != 0) return git::Fail(Code::kMalformed, "tree walk");
  return paths;
}

Result<std::vector<formats::PackedVoucher>> Cache::Export(const std::string& since) const {
  std::vector<formats::PackedVoucher> out;
  VOUCH_ASSIGN_OR_RETURN(std::optional<git_oid> tip, git::ResolveRef(repo_, std::string(kBranch).c_str()));
  if (!tip) return out;
  VOUCH_ASSIGN_OR_RETURN(git::TreePtr new_tree, git::TreeOf(repo_, *tip));
  git::TreePtr old_tree;
  if (!since.empty()) {
    // A bundle id recorded by RecordExport, or any commit-ish git understands.
    std::string ref = "refs/vouch/bundles/" + since;
    git_object* obj = nullptr;
    int rc = git_revparse_single(&obj, repo_, ref.c_str());
    if (rc != 0) rc = git_revparse_single(&obj, repo_, since.c_str());
    if (rc != 0) {
      git_error_clear();
      return Error(Code::kNotFound, "--since '" + since + "' is neither a commit nor a bundle exported from this cache");
    }
    git::ObjectPtr o(obj);
    git_object* peeled = nullptr;
    if (git_object_peel(&peeled, obj, GIT_OBJECT_TREE) != 0) return git::Fail(Code::kMalformed, since);
    old_tree.reset(reinterpret_cast<git_tree*>(peeled));
  }
  git_diff* d = nullptr;
  if (git_diff_tree_to_tree(&d, repo_, old_tree.get(), new_tree.get(), nullptr) != 0) return git::Fail(Code::kMalformed, "diff");
  git::DiffPtr diff(d);
  for (size_t i = 0; i < git_diff_num_deltas(d); ++i) {
    const git_diff_delta* delta = git_diff_get_delta(d, i);
    if (delta->status != GIT_DELTA_ADDED) continue;
    VOUCH_ASSIGN_OR_RETURN(Bytes bytes, BlobBytes(repo_, delta->new_file.id, formats::kMaxVoucherSize));
    out.push_back({delta->new_file.path, std::move(bytes)});
  }
  return out;
}

Status Cache::RecordExport(const std::string& bundle_id, const std::string& commit) {
  VOUCH_ASSIGN_OR_RETURN(git_oid oid, ParseOid(commit));
  git_reference* r = nullptr;
  std::string ref = "refs/vouch/bundles/" + bundle_id;
  int rc = git_reference_create(&r, repo_, ref.c_str(), &oid, 1, "vouch: bundle exported");
  git_reference_free(r);
  if (rc != 0) return git::Fail(Code::kIo, ref);
  return Status::Ok();
}

Status Cache::Gc() {
  VOUCH_ASSIGN_OR_RETURN(git::CacheLock lock, git::CacheLock::Take(path_.string(), git::CacheLock::Mode::kExclusive, false));
  VOUCH_ASSIGN_OR_RETURN(std::optional<git_oid> tip, git::ResolveRef(repo_, std::string(kBranch).c_str()));
  if (!tip) return Status::Ok();
  fs::path pack_dir = path_ / "objects" / "pack";
  std::vector<fs::path> old;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(pack_dir, ec)) old.push_back(e.path());
  git_packbuilder* pb = nullptr;
  if (git_packbuilder_new(&pb, repo_) != 0) return git::Fail(Code::kInternal, "packbuilder");
  std::unique_ptr<git_packbuilder, git::Deleter<git_packbuilder_free>> owned(pb);
  git_revwalk* w = nullptr;
  if (git_revwalk_new(&w, repo_) != 0) return git::Fail(Code::kInternal, "revwalk");
  git::RevwalkPtr walk(w);
  git_revwalk_push(w, &*tip);
  // Bundle markers and mirror tracking refs keep their commits too.
  git_revwalk_push_glob(w, "refs/vouch/*");
  if (git_packbuilder_insert_walk(pb, w) != 0) return git::Fail(Code::kIo, "pack objects");
  if (git_packbuilder_write(pb, pack_dir.c_str(), 0, nullptr, nullptr) != 0) return git::Fail(Code::kIo, "pack write");
  std::string keep = std::string("pack-") + git::OidText(*git_packbuilder_hash(pb));
  for (const auto& p : old) {
    if (p.stem().string() != keep && (p.extension() == ".pack" || p.extension() == ".idx")) fs::remove(p, ec);
  }
  // The object database caches the pack list; let it notice the change.
  git_odb* odb = nullptr;
  if (git_repository_odb(&odb, repo_) == 0) {
    git_odb_refresh(odb);
    git_odb_free(odb);
  }
  return Status::Ok();
}

}  // namespace vouch::cache

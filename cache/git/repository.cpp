#include "cache/git/repository.h"

#include <algorithm>
#include <unordered_set>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unordered_set>

#include "cache/git/git.h"
#include "cache/git/lock.h"
#include "libvoucher/parallel.h"

namespace vouch::cache::git {
namespace fs = std::filesystem;

void RepositoryFree::operator()(git_repository* r) const { git_repository_free(r); }
void TreeFree::operator()(git_tree* t) const { git_tree_free(t); }

std::optional<ObjectId> Tree::EntryAt(const std::string& path) const {
  git_tree_entry* e = nullptr;
  if (!tree_ || git_tree_entry_bypath(&e, tree_.get(), path.c_str()) != 0) {
    git_error_clear();
    return std::nullopt;
  }
  TreeEntryPtr owned(e);
  return IdOf(*git_tree_entry_id(e));
}

namespace {

struct FileWalk {
  std::string prefix;  // the walked directory's path from the root, with its '/'
  const std::function<Status(const std::string&, const ObjectId&)>* each;
  Status failed;
};

int VisitFile(const char* root, const git_tree_entry* e, void* payload) {
  if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
    auto* w = static_cast<FileWalk*>(payload);
    w->failed = (*w->each)(w->prefix + root + git_tree_entry_name(e), IdOf(*git_tree_entry_id(e)));
    if (!w->failed.ok()) return -1;
  }
  return 0;
}

}  // namespace

Result<std::vector<std::pair<std::string, ObjectId>>> Tree::Files(std::string_view under) const {
  std::vector<std::pair<std::string, ObjectId>> files;
  VOUCH_RETURN_IF_ERROR(ForEachFile(under, [&](const std::string& path, const ObjectId& id) {
    files.emplace_back(path, id);
    return Status::Ok();
  }));
  return files;
}

Status Tree::ForEachFile(std::string_view under, const std::function<Status(const std::string&, const ObjectId&)>& each) const {
  if (!tree_) return Status::Ok();
  const std::string dir(under);
  VOUCH_ASSIGN_OR_RETURN(TreePtr sub, SubtreeAt(tree_.get(), dir));
  if (!sub) return Status::Ok();  // no such directory: nothing below it
  FileWalk walk{dir + "/", &each, Status::Ok()};
  if (git_tree_walk(sub.get(), GIT_TREEWALK_PRE, VisitFile, &walk) != 0) {
    if (!walk.failed.ok()) return walk.failed;
    return Fail(Code::kMalformed, "tree walk of " + dir);
  }
  return Status::Ok();
}

Result<std::vector<std::string>> Tree::Directories(std::string_view under) const {
  std::vector<std::string> names;
  if (!tree_) return names;
  VOUCH_ASSIGN_OR_RETURN(TreePtr sub, SubtreeAt(tree_.get(), std::string(under)));
  if (!sub) return names;
  for (size_t i = 0; i < git_tree_entrycount(sub.get()); ++i) {
    const git_tree_entry* child = git_tree_entry_byindex(sub.get(), i);
    if (git_tree_entry_type(child) == GIT_OBJECT_TREE) names.emplace_back(git_tree_entry_name(child));
  }
  return names;
}

Result<Tree> Tree::Subtree(const std::string& path) const {
  if (!tree_) return Tree();
  VOUCH_ASSIGN_OR_RETURN(TreePtr sub, SubtreeAt(tree_.get(), path));
  return Tree(sub.release());
}

Result<TreePtr> SubtreeAt(git_tree* tree, const std::string& path) {
  git_tree_entry* e = nullptr;
  if (git_tree_entry_bypath(&e, tree, path.c_str()) != 0) {
    git_error_clear();
    return TreePtr();
  }
  TreeEntryPtr entry(e);
  if (git_tree_entry_type(e) != GIT_OBJECT_TREE) return TreePtr();
  git_tree* t = nullptr;
  if (git_tree_lookup(&t, git_tree_owner(tree), git_tree_entry_id(e)) != 0) return Fail(Code::kMalformed, "tree " + path);
  return TreePtr(t);
}

Status Repository::Create(const fs::path& path, std::string_view head) {
  Init();
  git_repository* r = nullptr;
  if (git_repository_init(&r, path.c_str(), /*is_bare=*/1) != 0) return Fail(Code::kIo, path.string());
  RepoPtr repo(r);
  if (git_repository_set_head(r, std::string(head).c_str()) != 0) return Fail(Code::kIo, "HEAD");
  return Status::Ok();
}

Result<Repository> Repository::Open(const fs::path& path) {
  Init();
  git_repository* r = nullptr;
  if (git_repository_open_ext(&r, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE, nullptr) != 0) {
    return Fail(Code::kIo, path.string());
  }
  Repository repo(r);
  repo.objects_ = repo.path() + "objects";
  return repo;
}

Result<Repository> Repository::OverObjects(const std::string& objects, const std::string& what) {
  Init();
  git_odb* o = nullptr;
  if (git_odb_open(&o, objects.c_str()) != 0) return Fail(Code::kMalformed, what + ": objects");
  OdbPtr odb(o);  // the repository takes a reference of its own
  git_repository* r = nullptr;
  if (git_repository_wrap_odb(&r, o) != 0) return Fail(Code::kInternal, what);
  Repository repo(r);
  repo.objects_ = objects;
  return repo;
}

Status Repository::DetachObjects() const {
  if (objects_.empty()) return Status::Ok();
  git_odb* empty = nullptr;
  if (git_odb_new(&empty) != 0) return Fail(Code::kInternal, "object database");
  OdbPtr owned_empty(empty);  // the repository takes a reference of its own
  git_repository_set_odb(repo_.get(), empty);
  return Status::Ok();
}

Status Repository::DropPackCaches() const {
  if (objects_.empty()) return Status::Ok();
  // libgit2 shares an open pack between every database of the process (by its path): a new
  // database opened before the old one is freed would take over the old one's packs, caches
  // and all. So the old one goes first, replaced for a moment by an empty one.
  VOUCH_RETURN_IF_ERROR(DetachObjects());
  git_odb* fresh = nullptr;
  if (git_odb_open(&fresh, objects_.c_str()) != 0) return Fail(Code::kIo, objects_);
  OdbPtr owned(fresh);
  git_repository_set_odb(repo_.get(), fresh);
  return Status::Ok();
}

std::string Repository::path() const { return git_repository_path(repo_.get()); }

Result<std::optional<ObjectId>> Repository::Resolve(std::string_view ref) const {
  git_oid oid;
  std::string name(ref);
  int rc = git_reference_name_to_id(&oid, repo_.get(), name.c_str());
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    return std::optional<ObjectId>();
  }
  if (rc != 0) return Fail(Code::kMalformed, "cannot resolve " + name, rc);
  return std::optional<ObjectId>(IdOf(oid));
}

namespace {

struct RefFilter {
  std::string_view prefix;
  std::vector<std::string> names;
};

int CollectRef(const char* name, void* payload) {
  auto* f = static_cast<RefFilter*>(payload);
  if (std::string_view(name).rfind(f->prefix, 0) == 0) f->names.push_back(name);
  return 0;
}

}  // namespace

Result<std::vector<std::string>> Repository::RefNames(std::string_view prefix) const {
  RefFilter filter{prefix, {}};
  if (git_reference_foreach_name(repo_.get(), CollectRef, &filter) != 0) return Fail(Code::kIo, "refs");
  return std::move(filter.names);
}

std::optional<ObjectId> Repository::Find(const std::string& spec) const {
  git_object* obj = nullptr;
  if (git_revparse_single(&obj, repo_.get(), spec.c_str()) != 0) {
    git_error_clear();
    return std::nullopt;
  }
  ObjectPtr owned(obj);
  return IdOf(*git_object_id(obj));
}

Status Repository::SetRef(const std::string& ref, const ObjectId& to, const std::string& log) const {
  git_reference* r = nullptr;
  git_oid oid = OidOf(to);
  int rc = git_reference_create(&r, repo_.get(), ref.c_str(), &oid, 1, log.c_str());
  RefPtr owned(r);
  return rc == 0 ? Status::Ok() : Fail(Code::kIo, ref);
}

Status Repository::CompareAndSwap(std::string_view ref_name, const ObjectId& to, const std::optional<ObjectId>& from,
                                  const std::string& log) const {
  std::string ref(ref_name), repo_path = path();
  VOUCH_ASSIGN_OR_RETURN(CacheLock lock, CacheLock::Take(repo_path, CacheLock::Mode::kExclusive, true, "ref-lock"));
  std::string lock_file = repo_path + ref + ".lock";
  struct stat st;
  if (::stat(lock_file.c_str(), &st) == 0 && st.st_mtime + 2 < ::time(nullptr)) ::unlink(lock_file.c_str());
  git_reference* r = nullptr;
  git_oid to_oid = OidOf(to);
  int rc = 0;
  if (from) {
    git_oid from_oid = OidOf(*from);
    rc = git_reference_create_matching(&r, repo_.get(), ref.c_str(), &to_oid, 1, &from_oid, log.c_str());
  } else {
    rc = git_reference_create(&r, repo_.get(), ref.c_str(), &to_oid, 0, log.c_str());
  }
  RefPtr owned(r);
  if (rc == 0) return Status::Ok();
  if (rc == GIT_EMODIFIED || rc == GIT_ELOCKED || rc == GIT_EEXISTS) {
    git_error_clear();
    return Error(Code::kExists, ref + " moved meanwhile");
  }
  return Fail(Code::kIo, "cannot move " + ref, rc);
}

Result<bool> Repository::IsAncestor(const ObjectId& ancestor, const ObjectId& descendant) const {
  if (ancestor == descendant) return true;
  git_oid a = OidOf(ancestor), d = OidOf(descendant);
  int rc = git_graph_descendant_of(repo_.get(), &d, &a);
  if (rc < 0) return Fail(Code::kMalformed, "history walk", rc);
  return rc == 1;
}

Result<ObjectId> Repository::TreeIdOf(const ObjectId& commit) const {
  git_oid oid = OidOf(commit);
  git_commit* raw = nullptr;
  if (git_commit_lookup(&raw, repo_.get(), &oid) != 0) return Fail(Code::kMalformed, "commit " + commit.Hex());
  ObjectId tree = IdOf(*git_commit_tree_id(raw));
  git_commit_free(raw);
  return tree;
}

Result<Tree> Repository::TreeAt(const ObjectId& tree) const {
  git_oid oid = OidOf(tree);
  git_tree* raw = nullptr;
  if (git_tree_lookup(&raw, repo_.get(), &oid) != 0) return Fail(Code::kMalformed, "tree " + tree.Hex());
  return Tree(raw);
}

namespace {
struct Collect {
  std::vector<ObjectId>* out;
  std::unordered_set<std::string>* seen;  // raw ids of trees and blobs met
  const std::vector<std::string>* top_level;
  size_t cap;
  Status refusal;
};
int CollectObject(const char* root, const git_tree_entry* e, void* payload) {
  auto* c = static_cast<Collect*>(payload);
  const git_object_t type = git_tree_entry_type(e);
  if (type != GIT_OBJECT_TREE && type != GIT_OBJECT_BLOB) {
    c->refusal = Error(Code::kMalformed, std::string(root) + git_tree_entry_name(e) + " is neither a file nor a directory");
    return -1;
  }
  if (*root == 0 && !c->top_level->empty() &&
      std::find(c->top_level->begin(), c->top_level->end(), git_tree_entry_name(e)) == c->top_level->end()) {
    c->refusal = Error(Code::kMalformed, std::string(git_tree_entry_name(e)) + " has no place at the top of this tree");
    return -1;
  }
  const git_oid* id = git_tree_entry_id(e);
  // Each object once: a tree met again is not walked again (shared subtrees cost nothing).
  if (!c->seen->insert(std::string(reinterpret_cast<const char*>(id->id), GIT_OID_RAWSZ)).second) return type == GIT_OBJECT_TREE ? 1 : 0;
  if (c->out->size() >= c->cap) {
    c->refusal = Error(Code::kTooLarge, "tree holds over " + std::to_string(c->cap) + " objects");
    return -1;
  }
  c->out->push_back(IdOf(*id));
  return 0;
}
}  // namespace

Result<std::vector<ObjectId>> Repository::TreeObjects(const ObjectId& tree_id, size_t cap,
                                                      const std::vector<std::string>& top_level) const {
  VOUCH_ASSIGN_OR_RETURN(Tree tree, TreeAt(tree_id));
  std::vector<ObjectId> out{tree_id};
  std::unordered_set<std::string> seen;
  Collect c{&out, &seen, &top_level, cap, Status::Ok()};
  if (git_tree_walk(tree.handle(), GIT_TREEWALK_PRE, CollectObject, &c) != 0) {
    if (!c.refusal.ok()) return c.refusal.Context("tree " + tree_id.Hex().substr(0, 12));
    return Fail(Code::kMalformed, "tree walk");
  }
  return out;
}

Result<std::vector<ObjectId>> Repository::Parents(const ObjectId& commit) const {
  git_oid oid = OidOf(commit);
  git_commit* raw = nullptr;
  if (git_commit_lookup(&raw, repo_.get(), &oid) != 0) return Fail(Code::kMalformed, "commit " + commit.Hex());
  std::vector<ObjectId> out;
  for (unsigned i = 0; i < git_commit_parentcount(raw); ++i) out.push_back(IdOf(*git_commit_parent_id(raw, i)));
  git_commit_free(raw);
  return out;
}

bool Repository::Has(const ObjectId& id) const {
  git_odb* raw = nullptr;
  if (git_repository_odb(&raw, repo_.get()) != 0) return false;
  OdbPtr odb(raw);
  git_oid oid = OidOf(id);
  return git_odb_exists(raw, &oid) == 1;
}

Result<Tree> Repository::TreeOf(const ObjectId& commit) const {
  git_oid oid = OidOf(commit);
  git_commit* c = nullptr;
  if (git_commit_lookup(&c, repo_.get(), &oid) != 0) return Fail(Code::kMalformed, "commit " + commit.Hex());
  CommitPtr owned(c);
  git_tree* t = nullptr;
  if (git_commit_tree(&t, c) != 0) return Fail(Code::kMalformed, "tree of commit " + commit.Hex());
  return Tree(t);
}

Result<Tree> Repository::PeelToTree(const ObjectId& object, const std::string& name) const {
  git_oid oid = OidOf(object);
  git_object* obj = nullptr;
  if (git_object_lookup(&obj, repo_.get(), &oid, GIT_OBJECT_ANY) != 0) return Fail(Code::kMalformed, name);
  ObjectPtr owned(obj);
  git_object* peeled = nullptr;
  if (git_object_peel(&peeled, obj, GIT_OBJECT_TREE) != 0) return Fail(Code::kMalformed, name);
  return Tree(reinterpret_cast<git_tree*>(peeled));
}

Result<std::vector<std::pair<std::string, ObjectId>>> Repository::Added(const Tree& from, const Tree& to,
                                                                        std::string_view under) const {
  // Only that directory is compared: git prunes the others without reading their trees.
  std::string dir = std::string(under) + "/";
  char* spec = dir.data();
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.pathspec = {&spec, 1};
  git_diff* d = nullptr;
  if (git_diff_tree_to_tree(&d, repo_.get(), from.handle(), to.handle(), &opts) != 0) return Fail(Code::kMalformed, "diff");
  DiffPtr diff(d);
  std::vector<std::pair<std::string, ObjectId>> added;
  for (size_t i = 0; i < git_diff_num_deltas(d); ++i) {
    const git_diff_delta* delta = git_diff_get_delta(d, i);
    if (delta->status != GIT_DELTA_ADDED) continue;
    std::string_view path = delta->new_file.path;
    if (path.substr(0, dir.size()) != dir) continue;  // a pathspec is a pattern: the prefix is the rule
    added.emplace_back(delta->new_file.path, IdOf(delta->new_file.id));
  }
  return added;
}

Result<Bytes> Repository::ReadBlob(const ObjectId& id, uint64_t cap) const {
  git_oid oid = OidOf(id);
  git_odb* o = nullptr;
  if (git_repository_odb(&o, repo_.get()) != 0) return Fail(Code::kIo, "object database");
  OdbPtr odb(o);
  // Type and size from the header, before the object is read.
  size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  if (git_odb_read_header(&size, &type, o, &oid) != 0) return Fail(Code::kMalformed, "blob " + id.Hex());
  if (type != GIT_OBJECT_BLOB) return Error(Code::kMalformed, "object " + id.Hex() + " is a " + git_object_type2string(type) + ", not a blob");
  if (size > cap) {
    return Error(Code::kTooLarge, "blob " + id.Hex() + " is " + std::to_string(size) + " bytes, over the cap of " + std::to_string(cap));
  }
  git_blob* b = nullptr;
  if (git_blob_lookup(&b, repo_.get(), &oid) != 0) return Fail(Code::kMalformed, "blob " + id.Hex());
  BlobPtr blob(b);
  const auto* p = static_cast<const uint8_t*>(git_blob_rawcontent(b));
  return Bytes(p, p + git_blob_rawsize(b));
}

Status Repository::ReadBlobs(const std::vector<ObjectId>& ids, uint64_t cap,
                             const std::function<void(size_t, Result<Bytes>)>& each) const {
  VOUCH_RETURN_IF_ERROR(DropPackCaches());  // a batch at a time: what the last batch's reads kept goes (status)
  const size_t workers = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), ids.size() / 256 + 1);
  std::vector<Repository> handles(workers);
  for (size_t w = 1; w < workers; ++w) {
    VOUCH_ASSIGN_OR_RETURN(handles[w], Open(path()));
  }
  ParallelFor(workers, [&](size_t w) {
    const Repository& r = w == 0 ? *this : handles[w];
    for (size_t i = w; i < ids.size(); i += workers) each(i, r.ReadBlob(ids[i], cap));
  }, /*grain=*/1);
  return Status::Ok();
}

namespace {

// The object database caches the pack list; let it notice packs added and removed.
void RefreshPacks(git_repository* repo) {
  git_odb* odb = nullptr;
  if (git_repository_odb(&odb, repo) == 0) {
    OdbPtr owned_odb(odb);
    git_odb_refresh(odb);
  }
}

}  // namespace

Status Repository::Repack(const ObjectId& tip, const std::string& prefix) const {
  fs::path pack_dir = fs::path(path()) / "objects" / "pack";
  std::vector<fs::path> old;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(pack_dir, ec)) old.push_back(e.path());
  git_packbuilder* pb = nullptr;
  if (git_packbuilder_new(&pb, repo_.get()) != 0) return Fail(Code::kInternal, "packbuilder");
  PackbuilderPtr owned(pb);
  git_revwalk* w = nullptr;
  if (git_revwalk_new(&w, repo_.get()) != 0) return Fail(Code::kInternal, "revwalk");
  RevwalkPtr walk(w);
  git_oid tip_oid = OidOf(tip);
  // A walk that could not start from every ref would pack less than the old packs hold, and
  // they are deleted below: any failure here stops the repack.
  if (git_revwalk_push(w, &tip_oid) != 0) return Fail(Code::kIo, "walk from the tip");
  // Every ref under `prefix` and the log branch: commits are walked, trees (a remote's log
  // as a pull keeps it) packed whole.
  VOUCH_ASSIGN_OR_RETURN(std::vector<std::string> refs, RefNames(prefix));
  refs.emplace_back(kLogRef);
  std::vector<git_oid> trees;
  for (const std::string& ref : refs) {
    VOUCH_ASSIGN_OR_RETURN(std::optional<ObjectId> at, Resolve(ref));
    if (!at) continue;
    git_oid oid = OidOf(*at);
    git_object* obj = nullptr;
    if (git_object_lookup(&obj, repo_.get(), &oid, GIT_OBJECT_ANY) != 0) return Fail(Code::kIo, ref);
    git_object_t type = git_object_type(obj);
    git_object_free(obj);
    if (type == GIT_OBJECT_TREE) {
      trees.push_back(oid);
    } else if (git_revwalk_push(w, &oid) != 0) {
      return Fail(Code::kIo, "walk from " + ref);
    }
  }
  if (git_packbuilder_insert_walk(pb, w) != 0) return Fail(Code::kIo, "pack objects");
  for (const git_oid& t : trees) {
    if (git_packbuilder_insert_tree(pb, &t) != 0) return Fail(Code::kIo, "pack a log tree");
  }
  if (git_packbuilder_write(pb, pack_dir.c_str(), 0, nullptr, nullptr) != 0) return Fail(Code::kIo, "pack write");
  std::string keep = std::string("pack-") + OidText(*git_packbuilder_hash(pb));
  for (const auto& p : old) {
    if (p.stem().string() != keep && (p.extension() == ".pack" || p.extension() == ".idx")) fs::remove(p, ec);
  }
  RefreshPacks(repo_.get());
  // The old packs are gone from the disk, not from this database, which had opened them all
  // (libgit2's refresh only adds packs): it lets go of them by opening again, or they would
  // stay open, deleted, until it is freed (a pull that imports many groups gcs many times).
  return DropPackCaches();
}

namespace {

struct PackFile {
  fs::path idx;
  uint64_t objects = 0;
  uint64_t bytes = 0;  // of the .pack
};

// The packs of `pack_dir` and how many objects each holds: the last entry of a version 2
// index's fan-out table (git's pack-format documentation) is its object count.
Result<std::vector<PackFile>> ListPacks(const fs::path& pack_dir) {
  std::vector<PackFile> packs;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(pack_dir, ec)) {
    if (e.path().extension() != ".idx") continue;
    fs::path pack = e.path();
    std::error_code size_ec;
    uint64_t bytes = fs::file_size(pack.replace_extension(".pack"), size_ec);
    if (size_ec) continue;  // an index without its pack (a pack being written or removed)
    std::ifstream in(e.path(), std::ios::binary);
    uint8_t head[8 + 256 * 4];
    if (!in.read(reinterpret_cast<char*>(head), sizeof head) || std::memcmp(head, "\377tOc\0\0\0\2", 8) != 0) {
      return Error(Code::kMalformed, e.path().string() + ": not a version 2 pack index");
    }
    const uint8_t* last = head + 8 + 255 * 4;
    uint64_t n = (uint64_t{last[0]} << 24) | (uint64_t{last[1]} << 16) | (uint64_t{last[2]} << 8) | last[3];
    packs.push_back({e.path(), n, bytes});
  }
  if (ec) return Error(Code::kIo, pack_dir.string() + ": " + ec.message());
  return packs;
}

int InsertObject(const git_oid* id, void* pb) { return git_packbuilder_insert(static_cast<git_packbuilder*>(pb), id, nullptr); }

}  // namespace

Result<Repository::PackTotals> Repository::Packed() const {
  VOUCH_ASSIGN_OR_RETURN(std::vector<PackFile> packs, ListPacks(fs::path(path()) / "objects" / "pack"));
  PackTotals t;
  for (const PackFile& p : packs) {
    t.objects += p.objects;
    t.bytes += p.bytes;
  }
  return t;
}

Result<uint64_t> Repository::PackedObjects() const {
  VOUCH_ASSIGN_OR_RETURN(PackTotals t, Packed());
  return t.objects;
}

Status Repository::ConsolidatePacks(uint64_t max_objects, uint64_t max_bytes) const {
  fs::path pack_dir = fs::path(path()) / "objects" / "pack";
  VOUCH_ASSIGN_OR_RETURN(std::vector<PackFile> packs, ListPacks(pack_dir));
  std::sort(packs.begin(), packs.end(), [](const PackFile& a, const PackFile& b) { return a.objects < b.objects; });
  // libgit2 shares an open pack between every database of the process (by its path): through
  // this repository's own database, each pack a merge read would stay open after its merge,
  // its file deleted, with the delta bases its reads cached (up to 16 MiB a pack), until the
  // gc's end (at a million vouchers, 142 MiB by the last merge against 42 at the first). So
  // the repository reads through an empty database while the merges run, each merge's packs
  // close with its own database, and the cache's is opened again at the end, on its new
  // packs, whatever happens in between.
  struct Reopen {
    const Repository* repo;
    bool armed = true;
    ~Reopen() {
      if (armed) (void)repo->DropPackCaches();  // a merge failed: its error is the one reported
    }
  } reopen{this, true};
  VOUCH_RETURN_IF_ERROR(DetachObjects());
  size_t at = 0;
  while (at < packs.size()) {
    // The next group: consecutive packs (smallest first) while the sum stays within the cap.
    size_t end = at;
    uint64_t objects = 0, bytes = 0;
    while (end < packs.size() && packs[end].objects <= max_objects / 2 && packs[end].bytes <= max_bytes / 2 &&
           objects + packs[end].objects <= max_objects && bytes + packs[end].bytes <= max_bytes) {
      objects += packs[end].objects;
      bytes += packs[end++].bytes;
    }
    if (end - at < 2) {
      at = std::max(end, at + 1);
      continue;
    }
    // The merge reads through an object database of its own packs only: through the
    // cache's, each object's lookup would search every pack's index, and every index's pages
    // would be resident by the end (50 MiB at a million vouchers, all of them, for a merge
    // that reads 7 MiB of them).
    git_odb* group_odb = nullptr;
    if (git_odb_new(&group_odb) != 0) return Fail(Code::kInternal, "object database");
    OdbPtr group(group_odb);
    for (size_t i = at; i < end; ++i) {
      git_odb_backend* raw = nullptr;
      if (git_odb_backend_one_pack(&raw, packs[i].idx.c_str()) != 0) return Fail(Code::kIo, packs[i].idx.string());
      BackendPtr one(raw);
      if (git_odb_add_backend(group_odb, one.get(), 1) != 0) return Fail(Code::kInternal, "object database");
      one.release();  // the database owns it now
    }
    git_repository* group_raw = nullptr;
    if (git_repository_wrap_odb(&group_raw, group_odb) != 0) return Fail(Code::kInternal, "object database");
    RepoPtr group_repo(group_raw);
    // Packed as imports pack (a one-object delta window): the merged packs' objects are an
    // import's, deltified against their neighbours once already, and libgit2's packbuilder
    // reuses no delta, so git's window of ten searched every object again, ten times over
    // (cache.md, "Packs").
    VOUCH_RETURN_IF_ERROR(UseImportPacking(group_raw, repo_.get(), /*merge=*/true));
    git_packbuilder* pb = nullptr;
    if (git_packbuilder_new(&pb, group_repo.get()) != 0) return Fail(Code::kInternal, "packbuilder");
    PackbuilderPtr owned(pb);
    git_packbuilder_set_threads(pb, 0);
    if (git_odb_foreach(group_odb, &InsertObject, pb) != 0) return Fail(Code::kIo, "pack objects of a merge");
    if (git_packbuilder_write(pb, pack_dir.c_str(), 0, nullptr, nullptr) != 0) return Fail(Code::kIo, "pack write");
    // The new pack is complete (written, indexed, renamed into place) before any old one goes.
    std::string keep = std::string("pack-") + OidText(*git_packbuilder_hash(pb));
    std::error_code ec;
    for (size_t i = at; i < end; ++i) {
      if (packs[i].idx.stem().string() == keep) continue;
      fs::path pack = packs[i].idx;
      fs::remove(pack.replace_extension(".pack"), ec);
      fs::remove(packs[i].idx, ec);
    }
    at = end;
  }
  reopen.armed = false;
  return DropPackCaches();  // the cache's database again, on its new packs
}

namespace {

std::string RemotesFile(const Repository& repo) { return repo.path() + "vouch/remotes"; }

}  // namespace

Status Repository::RecordRemote(const std::string& key, const std::string& url) const {
  git_config* raw = nullptr;
  std::string path = RemotesFile(*this);
  if (git_config_open_ondisk(&raw, path.c_str()) != 0) return Fail(Code::kIo, path);
  ConfigPtr cfg(raw);
  std::string name = "remote." + key + ".url";
  git_buf old = GIT_BUF_INIT;
  bool same = git_config_get_string_buf(&old, raw, name.c_str()) == 0 && url == old.ptr;
  git_buf_dispose(&old);
  git_error_clear();
  if (!same && git_config_set_string(raw, name.c_str(), url.c_str()) != 0) return Fail(Code::kIo, path);
  return Status::Ok();
}

std::string Repository::RemoteUrl(const std::string& key) const {
  git_config* raw = nullptr;
  std::string path = RemotesFile(*this), url = key;
  if (::access(path.c_str(), R_OK) == 0 && git_config_open_ondisk(&raw, path.c_str()) == 0) {
    ConfigPtr cfg(raw);
    git_buf buf = GIT_BUF_INIT;
    if (git_config_get_string_buf(&buf, raw, ("remote." + key + ".url").c_str()) == 0) url = buf.ptr;
    git_buf_dispose(&buf);
  }
  git_error_clear();
  return url;
}

}  // namespace vouch::cache::git

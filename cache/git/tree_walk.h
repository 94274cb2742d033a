// The device directories of a cache's tree, one at a time (cache/cache.md, "Status"): a fleet
// read whole would hold every path at once; a walk holds one directory per level.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cache/git/object_id.h"
#include "cache/git/repository.h"
#include "libvoucher/status.h"

namespace vouch::cache::git {

class DirectoryWalk {
 public:
  struct Directory {
    std::string name;  // the directory's own name; empty for a file met above `depth`
    std::string below;  // its path below the walked folder ("B5/SR/MB5S-.../"; the file's, for a file)
    std::vector<std::pair<std::string, ObjectId>> files;  // every file below it, paths from the root, in git's order
  };

  // The directories `depth` levels below the folder `under` of `tree` ("vouchers", 3: the
  // device directories), in git's order; nothing when there is no such folder. The walk
  // reads the tree's objects as it goes: `tree` must outlive it.
  static Result<DirectoryWalk> Start(const Tree& tree, std::string_view under, int depth);


  // The next directory whose name `want` accepts; the others are stepped over without their
  // trees being read. None at the end. A file above `depth` (out of the layout) comes alone,
  // as a directory with no name, for the caller to refuse as it refuses any path.
  Result<std::optional<Directory>> Next(const std::function<bool(std::string_view name)>& want);

 private:
  struct Frame {
    std::unique_ptr<git_tree, TreeFree> tree;
    size_t next = 0;   // its next entry
    std::string path;  // from the root, ending in '/'
  };
  std::vector<Frame> frames_;  // one a level, the walked folder's first
  int depth_ = 0;
  size_t root_ = 0;  // the length of the walked folder's path, '/' included
};

}  // namespace vouch::cache::git

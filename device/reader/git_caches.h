// The git reader's half of the scanner (scanner.h, GitCaches): git caches on a medium read
// through cache/git's hostile-input reader (cache/git/medium.h). Linked only into
// vouch-git-reader, so that the medium reader, which reads every stick, never loads libgit2
// and its libraries (DESIGN.md section 9, "The confined reader").
#pragma once

#include "device/reader/scanner.h"

namespace vouch::device::reader {

const GitCaches& GitCacheReader();

}  // namespace vouch::device::reader

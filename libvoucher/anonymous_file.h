// A scratch file that nothing outlives and nobody else opens: spills of work that must not be
// held in memory (sorted paths, object ids) on the same disk as what they are about.
#pragma once

#include <cstdio>
#include <filesystem>

namespace vouch {

// An anonymous file in `dir`, open for reading and writing: O_TMPFILE where the file system
// has it, else a named one (0600) unlinked at once, so a killed process leaves nothing
// behind. nullptr (errno set) when neither can be made.
std::FILE* OpenAnonymousFile(const std::filesystem::path& dir);

}  // namespace vouch

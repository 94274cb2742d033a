// The one place vouch includes libgit2: owning handles, library start-up, and turning
// libgit2's errors into a Status.
#pragma once

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>

#include <memory>
#include <string>
#include <string_view>

#include "libvoucher/status.h"

#include "libvoucher/deleter.h"

namespace vouch::cache::git {

using vouch::Deleter;

using RepoPtr = std::unique_ptr<git_repository, Deleter<git_repository_free>>;
using OdbPtr = std::unique_ptr<git_odb, Deleter<git_odb_free>>;
using TreePtr = std::unique_ptr<git_tree, Deleter<git_tree_free>>;
using CommitPtr = std::unique_ptr<git_commit, Deleter<git_commit_free>>;
using BlobPtr = std::unique_ptr<git_blob, Deleter<git_blob_free>>;
using RefPtr = std::unique_ptr<git_reference, Deleter<git_reference_free>>;
using TreeBuilderPtr = std::unique_ptr<git_treebuilder, Deleter<git_treebuilder_free>>;
using SignaturePtr = std::unique_ptr<git_signature, Deleter<git_signature_free>>;
using RevwalkPtr = std::unique_ptr<git_revwalk, Deleter<git_revwalk_free>>;
using DiffPtr = std::unique_ptr<git_diff, Deleter<git_diff_free>>;
using RemotePtr = std::unique_ptr<git_remote, Deleter<git_remote_free>>;
using ObjectPtr = std::unique_ptr<git_object, Deleter<git_object_free>>;
using TreeEntryPtr = std::unique_ptr<git_tree_entry, Deleter<git_tree_entry_free>>;

// Starts libgit2 once per process (thread-safe); every function here calls it.
void Init();

// Status(code, "<what>: <libgit2's last error message>").
Status Fail(Code code, std::string_view what, int error = -1);

std::string OidText(const git_oid& oid);

}  // namespace vouch::cache::git

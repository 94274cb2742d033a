// What `vouch cache add` and `import` take in: voucher files, directories of them (any
// .vjj/.vcj below, links not followed) and bundles, read in parallel.
#pragma once

#include <string>
#include <vector>

#include "cache/cache.h"

namespace vouch::cache {

// Sources that cannot be read whole (a hostile bundle, an oversize file) go to `refused`;
// anything else unreadable is an error.
Result<std::vector<Offered>> GatherSources(const std::vector<std::string>& inputs, std::vector<CandidateReport>* refused);

}  // namespace vouch::cache

#include "libvoucher/trust.h"

#include <algorithm>

#include "libvoucher/ossl/error.h"
#include "libvoucher/ossl/handles.h"

namespace vouch {

Result<VerifiedPath> VerifyPath(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                               const std::vector<Certificate>& anchors, const TimePolicy& time) {
  if (anchors.empty()) return Error(Code::kUntrustedSigner, "no trust anchors are configured");
  ossl::X509StorePtr store(X509_STORE_new());
  ossl::X509StackPtr untrusted(sk_X509_new_null());
  ossl::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return ossl::Fail(Code::kCrypto, "certificate store");
  for (const auto& a : anchors) {
    if (X509_STORE_add_cert(store.get(), a.x509()) != 1) ossl::ClearErrors();  // duplicates are fine
  }
  for (const auto& c : intermediates) {
    if (!sk_X509_push(untrusted.get(), X509_dup(c.x509()))) return ossl::Fail(Code::kCrypto, "certificate stack");
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.x509(), untrusted.get()) != 1) {
    return ossl::Fail(Code::kCrypto, "certificate store");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT;
  if (time.kind == TimePolicy::Kind::kNone) flags |= X509_V_FLAG_NO_CHECK_TIME;
  X509_VERIFY_PARAM_set_flags(param, flags);
  X509_VERIFY_PARAM_set_depth(param, kMaxPathDepth);
  if (time.kind == TimePolicy::Kind::kAt) X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(time.at.seconds()));

  int ok = X509_verify_cert(ctx.get());
  ossl::ClearErrors();
  if (ok != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
    std::string who = "'" + leaf.Subject() + "'";
    if (bad) who = "'" + Certificate::Share(bad).Subject() + "'";
    std::string why = X509_verify_cert_error_string(err);
    if (err == X509_V_ERR_CERT_HAS_EXPIRED) {
      return Error(Code::kExpired, "certificate " + who + " has expired (" + why + ")");
    }
    if (err == X509_V_ERR_CERT_NOT_YET_VALID) {
      return Error(Code::kNotYetValid, "certificate " + who + " is not yet valid");
    }
    return Error(Code::kUntrustedSigner, "no path from " + who + " to a trusted anchor: " + why);
  }
  // With partial chains OpenSSL may extend the chain past the anchor that made it trusted
  // (an untrusted root in x5c above a trusted signer), so the anchor is the first chain
  // element, from the leaf up, that the verifier holds.
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  VerifiedPath path{leaf, leaf.NotBefore(), leaf.NotAfter()};
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    Certificate c = Certificate::Share(sk_X509_value(chain, i));
    path.not_before = std::max(path.not_before, c.NotBefore());
    path.not_after = std::min(path.not_after, c.NotAfter());
    path.chain.push_back(c);
    for (const auto& a : anchors) {
      if (X509_cmp(a.x509(), c.x509()) == 0) {
        path.anchor = a;
        return path;
      }
    }
  }
  return Error(Code::kInternal, "verified path does not end at an anchor");
}

}  // namespace vouch

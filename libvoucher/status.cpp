#include "libvoucher/status.h"

namespace vouch {

const char* CodeName(Code code) {
  switch (code) {
#define VOUCH_CODE_CASE(id, name) \
  case Code::id: return name;
    VOUCH_CODES(VOUCH_CODE_CASE)
#undef VOUCH_CODE_CASE
  }
  return "internal";
}

std::optional<Code> CodeFromName(std::string_view name) {
  for (Code code : kAllCodes) {
    if (code != Code::kOk && name == CodeName(code)) return code;
  }
  return std::nullopt;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

Status Status::Context(std::string_view what) const {
  if (ok()) return *this;
  return Status(code_, std::string(what) + ": " + message_);
}

}  // namespace vouch

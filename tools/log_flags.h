// --log-key, --witness, --witnesses, --max-age: a transparency log policy from the command
// line (`vouch verify`, `vouch-device init` and `log-policy`). Parsing flags only: the
// policy's rules are device/log_policy.h's.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "device/log_policy.h"
#include "formats/datetime.h"
#include "tools/cli.h"
#include "tools/common.h"

namespace vouch::tools {

// --log-key, --witness, --witnesses, --max-age: the log a device insists on.
struct LogFlags {
  std::string log_key, max_age;
  std::vector<std::string> witnesses;
  CLI::Option* quorum_option = nullptr;
  size_t quorum = 0;

  void Add(CLI::App* c, bool required) {
    auto* key = c->add_option("--log-key", log_key, "The log's verifier key (vkey text, or a file holding one)");
    if (required) key->required();
    c->add_option("--witness", witnesses, "A witness's cosigner key (vkey text or file); repeat for each witness");
    quorum_option = c->add_option("--witnesses", quorum, "How many distinct witnesses must have cosigned (default: all given)");
    c->add_option("--max-age", max_age, "Refuse checkpoints last cosigned longer ago (30m, 12h, 7d); needs a trusted clock");
  }
  bool given() const { return !log_key.empty() || !witnesses.empty() || !max_age.empty() || quorum_option->count() > 0; }

  Result<std::optional<device::LogPolicy>> Policy() const {
    if (log_key.empty()) {
      if (given()) return Error(Code::kUsage, "--witness, --witnesses and --max-age go with --log-key");
      return std::optional<device::LogPolicy>();
    }
    VOUCH_ASSIGN_OR_RETURN(std::string log, VkeyFromFlag(log_key, "--log-key"));
    std::vector<std::string> ws;
    for (const auto& w : witnesses) {
      VOUCH_ASSIGN_OR_RETURN(std::string text, VkeyFromFlag(w, "--witness"));
      ws.push_back(std::move(text));
    }
    std::optional<uint64_t> age;
    if (!max_age.empty()) {
      auto secs = formats::ParseDuration(max_age);
      if (!secs.ok()) return secs.status().Context("--max-age");
      age = static_cast<uint64_t>(*secs);
    }
    std::optional<size_t> k;
    if (quorum_option->count() > 0) k = quorum;
    VOUCH_ASSIGN_OR_RETURN(device::LogPolicy p, device::MakeLogPolicy(log, ws, k, age));
    return std::optional<device::LogPolicy>(std::move(p));
  }
};

inline nlohmann::ordered_json PolicyJson(const device::LogPolicy& p) {
  nlohmann::ordered_json j;
  j["log"] = p.log.name;
  j["log-key"] = p.log.Text();
  nlohmann::ordered_json ws = nlohmann::ordered_json::array();
  for (const auto& w : p.witnesses) ws.push_back(w.Text());
  j["witnesses"] = ws;
  j["quorum"] = p.quorum;
  j["max-age-seconds"] = p.max_age_seconds ? nlohmann::ordered_json(*p.max_age_seconds) : nullptr;
  return j;
}

}  // namespace vouch::tools

#include "libvoucher/device_state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <algorithm>
#include <cstring>
#include <random>

#include "libvoucher/file.h"

namespace vouch {
namespace fs = std::filesystem;

namespace {

constexpr size_t kSmallFile = 64 * 1024;

Status MakeDir(const fs::path& p) {
  if (::mkdir(p.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error(Code::kIo, p.string() + ": cannot create directory: " + std::strerror(errno));
  }
  ::chmod(p.c_str(), 0700);
  return Status::Ok();
}

Result<std::string> ReadLine(const fs::path& p) {
  VOUCH_ASSIGN_OR_RETURN(Bytes b, ReadFile(p, kSmallFile));
  std::string s(b.begin(), b.end());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

Status WriteLine(const fs::path& p, const std::string& s) { return WriteFileAtomic(p, AsBytes(s + "\n"), 0600); }

// "gen-N" -> N, or -1. N has at most 9 digits, so it fits an int and so does N + 1.
int GenerationNumber(const std::string& name) {
  if (name.rfind("gen-", 0) != 0 || name.size() <= 4 || name.size() > 4 + 9) return -1;
  int n = 0;
  for (size_t i = 4; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    n = n * 10 + (name[i] - '0');
  }
  return n;
}

// DIR/reset-floor, written by a factory reset that keeps the key: {"device-key": UDF of X,
// "generation": the last generation before it, "created-on-us": the created-on of the voucher
// it had applied}. Generations go on counting past it (receipts order by them) and vouchers
// not newer than it are refused (enroll.h, DeviceIdentity::reset_floor). A floor for another
// device key (a reset to a new key that crashed before removing it) is ignored.
struct ResetFloor {
  int generation = 0;
  std::optional<Instant> created_on;
};

Result<ResetFloor> ReadResetFloor(const fs::path& dir, const std::string& udf) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir / "reset-floor", ec))) return ResetFloor{};
  VOUCH_ASSIGN_OR_RETURN(Bytes raw, ReadFile(dir / "reset-floor", kSmallFile, /*follow_links=*/false));
  nlohmann::json j = nlohmann::json::parse(raw.begin(), raw.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j["device-key"].is_string() || !j["generation"].is_number_integer() ||
      !j["created-on-us"].is_number_integer() || j["generation"].get<int64_t>() < 0 ||
      j["generation"].get<int64_t>() > kMaxGeneration) {
    return Error(Code::kMalformed, (dir / "reset-floor").string() + ": not a reset floor");
  }
  if (j["device-key"].get<std::string>() != udf) return ResetFloor{};
  return ResetFloor{static_cast<int>(j["generation"].get<int64_t>()), Instant{j["created-on-us"].get<int64_t>()}};
}

Status WriteAnchors(const fs::path& dir, const std::vector<Certificate>& anchors) {
  fs::path trust = dir / "trust";
  std::error_code ec;
  fs::remove_all(trust, ec);
  VOUCH_RETURN_IF_ERROR(MakeDir(trust));
  for (size_t i = 0; i < anchors.size(); ++i) {
    std::string name = (i < 10 ? "0" : "") + std::to_string(i) + ".pem";
    VOUCH_RETURN_IF_ERROR(WriteFileAtomic(trust / name, AsBytes(anchors[i].Pem()), 0644));
  }
  return SyncDirectory(trust);
}

}  // namespace

Result<DeviceState> DeviceState::Init(const fs::path& dir, const InitOptions& o) {
  if (o.serial_number.empty() || o.serial_number.find('\n') != std::string::npos) {
    return Error(Code::kUsage, "serial number must be one non-empty line");
  }
  if (o.anchors.empty()) return Error(Code::kUsage, "a device needs at least one trust anchor (--trust)");
  bool exists = fs::exists(dir / "device.key");
  if (exists && o.reset == ResetMode::kRefuse) {
    return Error(Code::kExists, dir.string() + ": already holds a device (use --force to reset it)");
  }
  VOUCH_RETURN_IF_ERROR(MakeDir(dir));
  // A reset waits for any fetch in progress, so it cannot be undone by that fetch's apply.
  std::optional<StateLock> lock;
  if (exists) {
    VOUCH_ASSIGN_OR_RETURN(StateLock held, StateLock::Acquire(dir));
    lock.emplace(std::move(held));
  }
  // A reset first forgets the owner: once `current` is gone the device is factory-fresh,
  // whatever happens to the rest of this function.
  std::error_code ec;
  // Before anything is forgotten: a reset that keeps the key keeps counting generations and
  // keeps the ordering (reset-floor, above), merged with any floor an earlier reset left.
  if (exists && o.reset == ResetMode::kKeepKey) {
    // A state too broken to open is still reset: the key's UDF comes from device.pub, and
    // what cannot be read of the old floor or ordering is lost (local corruption, not input).
    std::string udf;
    std::optional<Instant> last;
    if (auto before = Open(dir); before.ok()) {
      udf = before->identity_.udf;
      if (before->current_) last = before->current_->created_on;
    } else if (auto pub = LoadPublicKey(dir / "device.pub"); pub.ok()) {
      udf = pub->Fingerprint();
    }
    ResetFloor floor;
    if (!udf.empty()) {
      if (auto read = ReadResetFloor(dir, udf); read.ok()) floor = *read;
    }
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      floor.generation = std::max(floor.generation, GenerationNumber(entry.path().filename().string()));
    }
    if (last) floor.created_on = std::max(floor.created_on.value_or(*last), *last);
    if (!udf.empty() && (floor.generation > 0 || floor.created_on)) {
      nlohmann::ordered_json j;
      j["device-key"] = udf;
      j["generation"] = floor.generation;
      j["created-on-us"] = floor.created_on ? floor.created_on->micros : 0;
      VOUCH_RETURN_IF_ERROR(WriteFileAtomic(dir / "reset-floor", AsBytes(j.dump() + "\n"), 0600));
    }
  }
  if (fs::is_symlink(dir / "current", ec)) {
    if (::unlink((dir / "current").c_str()) != 0) return Error(Code::kIo, dir.string() + "/current: cannot remove");
    VOUCH_RETURN_IF_ERROR(SyncDirectory(dir));
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (GenerationNumber(name) >= 0 || name.rfind(".gen-", 0) == 0) fs::remove_all(entry.path(), ec);
  }
  if (!exists || o.reset == ResetMode::kNewKey) {
    VOUCH_ASSIGN_OR_RETURN(PrivateKey x, PrivateKey::Generate(o.group));
    VOUCH_RETURN_IF_ERROR(SavePrivateKey(dir / "device.key", x, Overwrite::kYes));
    VOUCH_RETURN_IF_ERROR(SavePublicKey(dir / "device.pub", x.Public()));
    // Only now, with the old key gone: a crash before this leaves the old key and its floor
    // together (and a floor for another key is ignored anyway).
    if (::unlink((dir / "reset-floor").c_str()) != 0 && errno != ENOENT) {
      return Error(Code::kIo, (dir / "reset-floor").string() + ": cannot remove: " + std::strerror(errno));
    }
  }
  VOUCH_RETURN_IF_ERROR(WriteLine(dir / "serial", o.serial_number));
  VOUCH_RETURN_IF_ERROR(WriteLine(dir / "clock", o.trusted_clock ? "trusted" : "untrusted"));
  // Before the anchors: a state that has its (new) anchors has its policy, so a crash here
  // never leaves a fresh device that verifies vouchers without the log it was told to insist on.
  if (o.log_policy) {
    VOUCH_RETURN_IF_ERROR(WriteFileAtomic(dir / "log-policy", AsBytes(*o.log_policy), 0600));
  } else if (::unlink((dir / "log-policy").c_str()) != 0 && errno != ENOENT) {
    return Error(Code::kIo, (dir / "log-policy").string() + ": cannot remove: " + std::strerror(errno));
  }
  VOUCH_RETURN_IF_ERROR(WriteAnchors(dir, o.anchors));
  VOUCH_RETURN_IF_ERROR(SyncDirectory(dir));
  return Open(dir);
}

Result<DeviceState> DeviceState::Open(const fs::path& dir) {
  DeviceState s;
  s.dir_ = dir;
  if (!fs::exists(dir / "device.key")) {
    return Error(Code::kNotFound, dir.string() + ": no device state here (run vouch-device init)");
  }
  // device.pub, written with the key, settles the sign of an Edwards key (key.h) and catches
  // a key file swapped under the state.
  VOUCH_ASSIGN_OR_RETURN(PublicKey pub, LoadPublicKey(dir / "device.pub"));
  VOUCH_ASSIGN_OR_RETURN(s.identity_.key, LoadPrivateKey(dir / "device.key", &pub));
  s.identity_.udf = s.identity_.key.Public().Fingerprint();
  VOUCH_ASSIGN_OR_RETURN(s.identity_.serial_number, ReadLine(dir / "serial"));
  VOUCH_ASSIGN_OR_RETURN(std::string clock, ReadLine(dir / "clock"));
  if (clock != "trusted" && clock != "untrusted") return Error(Code::kMalformed, (dir / "clock").string() + ": not 'trusted' or 'untrusted'");
  s.identity_.trusted_clock = clock == "trusted";
  VOUCH_ASSIGN_OR_RETURN(ResetFloor floor, ReadResetFloor(dir, s.identity_.udf));
  s.identity_.reset_floor = floor.created_on;
  s.generation_floor_ = floor.generation;
  std::error_code ec;
  std::vector<fs::path> anchor_files;
  for (const auto& e : fs::directory_iterator(dir / "trust", ec)) anchor_files.push_back(e.path());
  std::sort(anchor_files.begin(), anchor_files.end());
  for (const auto& p : anchor_files) {
    VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> certs, LoadCertificates(p));
    s.identity_.factory_anchors.insert(s.identity_.factory_anchors.end(), certs.begin(), certs.end());
  }
  if (s.identity_.factory_anchors.empty()) return Error(Code::kMalformed, dir.string() + ": trust/ holds no anchors");
  if (fs::exists(fs::symlink_status(dir / "log-policy", ec))) {
    VOUCH_ASSIGN_OR_RETURN(Bytes policy, ReadFile(dir / "log-policy", kMaxPolicyText, /*follow_links=*/false));
    s.log_policy_ = std::string(AsChars(policy));
  }
  VOUCH_RETURN_IF_ERROR(s.LoadCurrent());
  return s;
}

Result<StateLock> StateLock::Acquire(const fs::path& dir, int timeout_ms) {
  int fd = ::open((dir / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Error(Code::kIo, (dir / "lock").string() + ": cannot open: " + std::strerror(errno));
  StateLock lock(fd);
  // Polled rather than blocking, so a wedged holder turns into an error, not a hang.
  for (int waited = 0;; waited += 20) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return lock;
    if (errno != EWOULDBLOCK && errno != EINTR) return Error(Code::kIo, (dir / "lock").string() + ": cannot lock: " + std::strerror(errno));
    if (waited >= timeout_ms) {
      return Error(Code::kIo, dir.string() + ": the device state is locked by another vouch-device for over " +
                                  std::to_string(timeout_ms / 1000) + " s");
    }
    ::usleep(20 * 1000);
  }
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the flock
}

Status DeviceState::SetLogPolicy(const std::string& text) {
  if (text.size() > kMaxPolicyText) return Error(Code::kTooLarge, "log policy over " + std::to_string(kMaxPolicyText) + " bytes");
  VOUCH_RETURN_IF_ERROR(WriteFileAtomic(dir_ / "log-policy", AsBytes(text), 0600));  // fsyncs DIR too
  log_policy_ = text;
  return Status::Ok();
}

fs::path DeviceState::CurrentDir() const {
  return generation_ > 0 ? dir_ / ("gen-" + std::to_string(generation_)) : fs::path();
}

Status DeviceState::LoadCurrent() {
  std::error_code ec;
  fs::path link = dir_ / "current";
  if (!fs::is_symlink(link, ec)) return Status::Ok();
  fs::path target = fs::read_symlink(link, ec);
  int n = GenerationNumber(target.filename().string());
  if (ec || n <= 0 || target.has_parent_path()) return Error(Code::kMalformed, link.string() + ": not a link to gen-N");
  fs::path gen = dir_ / target;
  VOUCH_ASSIGN_OR_RETURN(Bytes raw, ReadFile(gen / "state.json", kSmallFile));
  nlohmann::json st = nlohmann::json::parse(raw.begin(), raw.end(), nullptr, /*allow_exceptions=*/false);
  if (!st.is_object() || !st["voucher-id"].is_string() || !st["created-on-us"].is_number_integer() ||
      !st["applied-on-us"].is_number_integer()) {
    return Error(Code::kMalformed, (gen / "state.json").string() + ": not a device state");
  }
  VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> domain, LoadCertificates(gen / "domain-ca.pem"));
  VOUCH_ASSIGN_OR_RETURN(PublicKey z, LoadPublicKey(gen / "z.pub"));
  current_ = Applied{st["voucher-id"].get<std::string>(), Instant{st["created-on-us"].get<int64_t>()}, domain[0], z,
                     Instant{st["applied-on-us"].get<int64_t>()}};
  if (fs::exists(fs::symlink_status(gen / "certificate.pem", ec))) {
    VOUCH_ASSIGN_OR_RETURN(std::vector<Certificate> cert, LoadCertificates(gen / "certificate.pem"));
    current_->certificate = cert[0];
  }
  // Generations written before transfers existed have no former owners.
  if (fs::exists(fs::symlink_status(gen / "former-owners.pem", ec))) {
    VOUCH_ASSIGN_OR_RETURN(current_->former_owners, LoadCertificates(gen / "former-owners.pem"));
    if (current_->former_owners.size() > kMaxFormerOwners) return Error(Code::kMalformed, (gen / "former-owners.pem").string() + ": too many");
  }
  generation_ = n;
  return Status::Ok();
}

Status DeviceState::Apply(const Enrolled& e, ByteView envelope, std::string_view extension) {
  // The next number is past every generation on disk, including ones a crash left unlinked,
  // and past every generation before the last factory reset (receipts order by it).
  int next = std::max(generation_, generation_floor_) + 1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) next = std::max(next, GenerationNumber(entry.path().filename().string()) + 1);
  if (next > kMaxGeneration) {
    return Error(Code::kTooLarge, dir_.string() + ": generation " + std::to_string(next) + " is past the last one (" +
                                      std::to_string(kMaxGeneration) + "); reset the device");
  }
  std::string name = "gen-" + std::to_string(next);
  std::random_device rd;
  fs::path tmp = dir_ / (".gen-" + std::to_string(next) + ".tmp-" + std::to_string(rd()));
  VOUCH_RETURN_IF_ERROR(MakeDir(tmp));
  auto fail = [&](Status s) {
    fs::remove_all(tmp, ec);
    return s;
  };
  nlohmann::ordered_json st;
  st["generation"] = next;
  st["voucher-id"] = e.voucher_id;
  st["created-on-us"] = e.created_on.micros;
  const Instant applied_on = Instant::Now();
  st["applied-on-us"] = applied_on.micros;
  st["combined-key"] = e.combined_key.Fingerprint();
  st["change"] = std::string(ChangeName(e.change));
  st["voucher-file"] = "voucher." + std::string(extension);
  st["certificate"] = e.certificate.has_value();
  std::string state_text = st.dump(2) + "\n";
  Status s = WriteFileAtomic(tmp / "state.json", AsBytes(state_text), 0600);
  if (s.ok()) s = WriteFileAtomic(tmp / ("voucher." + std::string(extension)), envelope, 0644);
  if (s.ok()) s = e.z ? SavePrivateKey(tmp / "z.key", *e.z, Overwrite::kYes) : KeepZ(tmp / "z.key", e.combined_key);
  if (s.ok()) s = SavePublicKey(tmp / "z.pub", e.combined_key);
  if (s.ok() && e.certificate) s = SaveCertificates(tmp / "certificate.pem", {*e.certificate});
  if (s.ok()) s = SaveCertificates(tmp / "domain-ca.pem", {e.domain_ca});
  if (s.ok() && !e.former_owners.empty()) s = SaveCertificates(tmp / "former-owners.pem", e.former_owners);
  if (!s.ok()) return fail(s);
  if (::rename(tmp.c_str(), (dir_ / name).c_str()) != 0) {
    return fail(Error(Code::kIo, (dir_ / name).string() + ": cannot rename into place"));
  }
  VOUCH_RETURN_IF_ERROR(SyncDirectory(dir_));
  fs::path link_tmp = dir_ / (".current.tmp-" + std::to_string(rd()));
  if (::symlink(name.c_str(), link_tmp.c_str()) != 0 || ::rename(link_tmp.c_str(), (dir_ / "current").c_str()) != 0) {
    ::unlink(link_tmp.c_str());
    return Error(Code::kIo, (dir_ / "current").string() + ": cannot swap the current generation");
  }
  VOUCH_RETURN_IF_ERROR(SyncDirectory(dir_));
  // The swap is durable; older generations are garbage now. Failing to remove them is harmless.
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::string n = entry.path().filename().string();
    if ((GenerationNumber(n) >= 0 && n != name) || n.rfind(".gen-", 0) == 0 || n.rfind(".current.tmp-", 0) == 0) {
      fs::remove_all(entry.path(), ec);
    }
  }
  current_ = Applied{e.voucher_id, e.created_on, e.domain_ca, e.combined_key, applied_on, e.former_owners, e.certificate};
  generation_ = next;
  return Status::Ok();
}

Status DeviceState::KeepZ(const fs::path& to, const PublicKey& combined_key) const {
  // A renewal (enroll.h: Enrolled::z absent) keeps the key: the current z, checked against
  // the Z the renewal certifies, is written again into the new generation.
  if (!current_ || !(current_->combined_key == combined_key)) {
    return Error(Code::kInternal, "a renewal applied to a device that does not hold its combined key");
  }
  VOUCH_ASSIGN_OR_RETURN(PrivateKey z, LoadPrivateKey(CurrentDir() / "z.key", &current_->combined_key));
  return SavePrivateKey(to, z, Overwrite::kYes);
}

}  // namespace vouch

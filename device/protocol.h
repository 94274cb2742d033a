// The pipe between the confined medium reader and the device (device/protocol.md).
//
// The reader (vouch-medium-reader) walks media, opens bundles, and writes records on its
// standard output; vouch-device reads them. When it saw a git cache it says so (kGit), and
// the device then starts the git reader (vouch-git-reader), which reads only the git caches
// and writes the same records. The reader is as hostile as the
// medium it read, so the decoder trusts nothing: every length is capped before anything is
// allocated, a record of an unknown type or over its cap ends the stream as kReaderFailed,
// and a stream without its end record is a failed reader, not a short medium.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libvoucher/bytes.h"
#include "libvoucher/status.h"

namespace vouch::device {

inline constexpr size_t kMaxSourceBytes = 4096;     // "stick/vouchers/B5/.../ID.vjj" or "x.vbundle:path"
inline constexpr size_t kMaxEnvelopeBytes = 65536;  // formats::kMaxVoucherSize
inline constexpr size_t kMaxProofBytes = 65536;     // formats::tlog::kMaxProofSize
inline constexpr size_t kMaxMessageBytes = 1024;    // a refusal's sentence or a note
// The largest record, header included: a logged voucher (type 'L').
inline constexpr size_t kMaxRecordBytes = 5 + 2 + kMaxSourceBytes + 4 + kMaxEnvelopeBytes + kMaxProofBytes;

enum class RecordType : uint8_t {
  kVoucher = 'V',   // a candidate envelope for this device, and where it was found
  kLogged = 'L',    // the same, with the log proof found beside it
  kRefused = 'R',   // a source refused whole (a hostile bundle, an oversize file)
  kNote = 'N',      // a limit reached, a source skipped
  kTally = 'T',     // refusals past the kept ones, counted by code
  kGit = 'G',       // the media hold git caches, which only the git reader reads (empty body)
  kEnd = 'E',       // the reader finished; nothing may follow
};

struct Record {
  RecordType type = RecordType::kEnd;
  std::string source;   // kVoucher, kLogged, kRefused
  Bytes envelope;       // kVoucher, kLogged
  std::optional<Bytes> proof;  // kLogged (possibly empty: an empty proof file is a proof that will not parse)
  Status status;        // kRefused (the refusal), kTally (its code)
  std::string text;     // kNote
  uint32_t count = 0;   // kTally
};

// Encoding, for the reader. Over-long sources and messages are cut (at a UTF-8 boundary);
// an envelope over kMaxEnvelopeBytes or a proof over kMaxProofBytes is the reader's bug and
// is kInternal. With a proof the record is kLogged, without one kVoucher.
Result<Bytes> EncodeVoucher(std::string_view source, ByteView envelope, const std::optional<Bytes>& proof = std::nullopt);
Bytes EncodeRefused(std::string_view source, const Status& refusal);
Bytes EncodeNote(std::string_view text);
Bytes EncodeTally(Code code, uint32_t count);
Bytes EncodeGit();
Bytes EncodeEnd();

// Incremental decoding, for the device: Append what the pipe gave, then take records with
// Next until it returns nullopt (more bytes needed). Any violation is kReaderFailed, and the
// decoder stays failed.
class Decoder {
 public:
  void Append(ByteView bytes);
  Result<std::optional<Record>> Next();
  bool ended() const { return ended_; }   // the end record was read
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  Status Fail(std::string why);
  Bytes buf_;
  size_t pos_ = 0;
  bool ended_ = false;
  Status failed_;
};

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string CutUtf8(std::string_view s, size_t max);

}  // namespace vouch::device

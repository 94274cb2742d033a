#include "device/protocol.h"

#include <cstring>

namespace vouch::device {
namespace {

// Record: type (1 byte), body length (4 bytes, big-endian), body.
constexpr size_t kHeader = 5;

void PutU16(Bytes& out, size_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void PutU32(Bytes& out, size_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}
void PutText(Bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

Bytes Frame(RecordType type, const Bytes& body) {
  Bytes out;
  out.reserve(kHeader + body.size());
  out.push_back(static_cast<uint8_t>(type));
  PutU32(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// Reads within one record's body; every read is checked against what is left.
class Reader {
 public:
  explicit Reader(ByteView b) : b_(b) {}
  bool U8(size_t& v) {
    if (left() < 1) return false;
    v = b_[pos_++];
    return true;
  }
  bool U16(size_t& v) {
    if (left() < 2) return false;
    v = (size_t{b_[pos_]} << 8) | b_[pos_ + 1];
    pos_ += 2;
    return true;
  }
  bool U32(uint32_t& v) {
    if (left() < 4) return false;
    v = (uint32_t{b_[pos_]} << 24) | (uint32_t{b_[pos_ + 1]} << 16) | (uint32_t{b_[pos_ + 2]} << 8) | b_[pos_ + 3];
    pos_ += 4;
    return true;
  }
  bool Text(size_t n, std::string& out) {
    if (left() < n) return false;
    out.assign(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  ByteView Rest() {
    ByteView r = b_.subspan(pos_);
    pos_ = b_.size();
    return r;
  }
  size_t left() const { return b_.size() - pos_; }

 private:
  ByteView b_;
  size_t pos_ = 0;
};

}  // namespace

std::string CutUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  // Step back over continuation bytes (10xxxxxx) so no sequence is split.
  while (n > 0 && (static_cast<uint8_t>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

Result<Bytes> EncodeVoucher(std::string_view source, ByteView envelope, const std::optional<Bytes>& proof) {
  if (envelope.size() > kMaxEnvelopeBytes) return Error(Code::kInternal, "reader: envelope over the protocol cap");
  if (proof && proof->size() > kMaxProofBytes) return Error(Code::kInternal, "reader: proof over the protocol cap");
  std::string src = CutUtf8(source, kMaxSourceBytes);
  Bytes body;
  PutU16(body, src.size());
  PutText(body, src);
  if (!proof) {
    body.insert(body.end(), envelope.begin(), envelope.end());
    return Frame(RecordType::kVoucher, body);
  }
  // The envelope's length goes first: the proof is the rest.
  PutU32(body, envelope.size());
  body.insert(body.end(), envelope.begin(), envelope.end());
  body.insert(body.end(), proof->begin(), proof->end());
  return Frame(RecordType::kLogged, body);
}

Bytes EncodeRefused(std::string_view source, const Status& refusal) {
  std::string src = CutUtf8(source, kMaxSourceBytes);
  std::string_view code = CodeName(refusal.ok() ? Code::kInternal : refusal.code());
  Bytes body;
  PutU16(body, src.size());
  PutText(body, src);
  body.push_back(static_cast<uint8_t>(code.size()));
  PutText(body, code);
  PutText(body, CutUtf8(refusal.message(), kMaxMessageBytes));
  return Frame(RecordType::kRefused, body);
}

Bytes EncodeNote(std::string_view text) {
  Bytes body;
  PutText(body, CutUtf8(text, kMaxMessageBytes));
  return Frame(RecordType::kNote, body);
}

Bytes EncodeTally(Code code, uint32_t count) {
  std::string_view name = CodeName(code);
  Bytes body;
  body.push_back(static_cast<uint8_t>(name.size()));
  PutText(body, name);
  PutU32(body, count);
  return Frame(RecordType::kTally, body);
}

Bytes EncodeGit() { return Frame(RecordType::kGit, {}); }
Bytes EncodeEnd() { return Frame(RecordType::kEnd, {}); }

void Decoder::Append(ByteView bytes) {
  // Drop what was consumed before growing, so the buffer holds at most one record and a read.
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > kMaxRecordBytes) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

Status Decoder::Fail(std::string why) {
  failed_ = Error(Code::kReaderFailed, "medium reader broke its protocol: " + why);
  return failed_;
}

Result<std::optional<Record>> Decoder::Next() {
  if (!failed_.ok()) return failed_;
  size_t left = buf_.size() - pos_;
  if (ended_) {
    if (left > 0) return Fail("bytes after the end record");
    return std::optional<Record>();
  }
  if (left < kHeader) return std::optional<Record>();
  const uint8_t* h = buf_.data() + pos_;
  uint32_t len = (uint32_t{h[1]} << 24) | (uint32_t{h[2]} << 16) | (uint32_t{h[3]} << 8) | h[4];
  auto type = static_cast<RecordType>(h[0]);
  size_t cap = 0;
  switch (type) {
    case RecordType::kVoucher: cap = 2 + kMaxSourceBytes + kMaxEnvelopeBytes; break;
    case RecordType::kLogged: cap = 2 + kMaxSourceBytes + 4 + kMaxEnvelopeBytes + kMaxProofBytes; break;
    case RecordType::kRefused: cap = 2 + kMaxSourceBytes + 1 + 255 + kMaxMessageBytes; break;
    case RecordType::kNote: cap = kMaxMessageBytes; break;
    case RecordType::kTally: cap = 1 + 255 + 4; break;
    case RecordType::kGit:
    case RecordType::kEnd: cap = 0; break;
    default: return Fail("unknown record type " + std::to_string(h[0]));
  }
  if (len > cap) return Fail("record of " + std::to_string(len) + " bytes over its cap");
  if (left < kHeader + len) return std::optional<Record>();
  Reader r(ByteView(buf_).subspan(pos_ + kHeader, len));
  pos_ += kHeader + len;

  Record rec;
  rec.type = type;
  size_t n = 0;
  std::string code_name;
  switch (type) {
    case RecordType::kVoucher:
      if (!r.U16(n) || n > kMaxSourceBytes || !r.Text(n, rec.source)) return Fail("short voucher record");
      {
        ByteView env = r.Rest();
        if (env.empty()) return Fail("empty voucher record");
        rec.envelope.assign(env.begin(), env.end());
      }
      break;
    case RecordType::kLogged: {
      uint32_t envelope_size = 0;
      if (!r.U16(n) || n > kMaxSourceBytes || !r.Text(n, rec.source)) return Fail("short logged voucher record");
      if (!r.U32(envelope_size) || envelope_size == 0 || envelope_size > kMaxEnvelopeBytes || r.left() < envelope_size) {
        return Fail("logged voucher record with a bad envelope length");
      }
      ByteView rest = r.Rest();
      if (rest.size() - envelope_size > kMaxProofBytes) return Fail("proof over its cap");
      rec.envelope.assign(rest.begin(), rest.begin() + envelope_size);
      rec.proof = Bytes(rest.begin() + envelope_size, rest.end());
      break;
    }
    case RecordType::kRefused: {
      std::string message;
      if (!r.U16(n) || n > kMaxSourceBytes || !r.Text(n, rec.source)) return Fail("short refusal record");
      if (!r.U8(n) || !r.Text(n, code_name)) return Fail("short refusal record");
      if (r.left() > kMaxMessageBytes || !r.Text(r.left(), message)) return Fail("refusal message over its cap");
      auto code = CodeFromName(code_name);
      if (!code) return Fail("unknown refusal code");
      rec.status = Error(*code, std::move(message));
      break;
    }
    case RecordType::kNote:
      r.Text(r.left(), rec.text);
      break;
    case RecordType::kTally: {
      if (!r.U8(n) || !r.Text(n, code_name) || !r.U32(rec.count) || r.left() != 0) return Fail("bad tally record");
      auto code = CodeFromName(code_name);
      if (!code) return Fail("unknown tally code");
      rec.status = Error(*code, "");
      break;
    }
    case RecordType::kGit: break;
    case RecordType::kEnd:
      ended_ = true;
      break;
  }
  return std::optional<Record>(std::move(rec));
}

}  // namespace vouch::device

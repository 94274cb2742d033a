#include <catch2/catch.hpp>

#include "device/protocol.h"

using namespace vouch;
using namespace vouch::device;

namespace {

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Decodes a whole stream fed `step` bytes at a time; the status of the first failure, if any.
Result<std::vector<Record>> Decode(const Bytes& stream, size_t step) {
  Decoder d;
  std::vector<Record> out;
  for (size_t off = 0; off < stream.size(); off += step) {
    d.Append(ByteView(stream).subspan(off, std::min(step, stream.size() - off)));
    for (;;) {
      auto r = d.Next();
      if (!r.ok()) return r.status();
      if (!*r) break;
      out.push_back(std::move(**r));
    }
  }
  if (!d.ended() || d.buffered()) return Error(Code::kReaderFailed, "no end");
  return out;
}

}  // namespace

TEST_CASE("records round-trip whatever the pipe's chunking", "[protocol]") {
  Bytes env(65536, 'x');
  Bytes stream = Cat({*EncodeVoucher("stick/x.vbundle:vouchers/B5/SR/U/I.vjj", env),
                      EncodeRefused("stick/bad.vbundle", Error(Code::kTrailingData, "bytes after the end")),
                      EncodeNote("stopped looking after 200000 directory entries"), EncodeTally(Code::kIdMismatch, 7),
                      EncodeGit(), EncodeEnd()});
  for (size_t step : {size_t{1}, size_t{7}, size_t{4096}, stream.size()}) {
    INFO(step);
    auto recs = Decode(stream, step);
    REQUIRE(recs.ok());
    REQUIRE(recs->size() == 6);
    CHECK((*recs)[0].type == RecordType::kVoucher);
    CHECK((*recs)[0].envelope == env);
    CHECK((*recs)[0].source == "stick/x.vbundle:vouchers/B5/SR/U/I.vjj");
    CHECK((*recs)[1].status.code() == Code::kTrailingData);
    CHECK((*recs)[1].status.message() == "bytes after the end");
    CHECK((*recs)[2].text == "stopped looking after 200000 directory entries");
    CHECK((*recs)[3].status.code() == Code::kIdMismatch);
    CHECK((*recs)[3].count == 7);
    CHECK((*recs)[4].type == RecordType::kGit);
    CHECK((*recs)[5].type == RecordType::kEnd);
  }
  // A git record has no body.
  Bytes git_with_body = {'G', 0, 0, 0, 1, 'x'};
  CHECK(Decode(git_with_body, git_with_body.size()).status().code() == Code::kReaderFailed);
}

TEST_CASE("long sources and messages are cut at a UTF-8 boundary, oversize envelopes refused", "[protocol]") {
  std::string euro;
  for (int i = 0; i < 2000; ++i) euro += "\xe2\x82\xac";  // 6,000 bytes of three-byte characters
  auto recs = Decode(Cat({*EncodeVoucher(euro, Bytes{'{'}), EncodeEnd()}), 100);
  REQUIRE(recs.ok());
  CHECK((*recs)[0].source.size() == 4095);  // 1,365 whole characters
  CHECK(CutUtf8("a\xe2\x82\xac", 3) == "a");
  CHECK(!EncodeVoucher("s", Bytes(65537, 'x')).ok());
}

TEST_CASE("a hostile reader's stream is refused as reader-failed, and stays refused", "[protocol]") {
  auto fails = [](const Bytes& stream) {
    auto r = Decode(stream, 3);
    return !r.ok() && r.status().code() == Code::kReaderFailed;
  };
  CHECK(fails({}));                                             // nothing: not even an end
  CHECK(fails(*EncodeVoucher("s", Bytes{'{'})));                 // no end record
  CHECK(fails(Cat({EncodeEnd(), EncodeNote("after")})));         // bytes after the end
  CHECK(fails(Bytes{'Z', 0, 0, 0, 0}));                          // unknown type
  CHECK(fails(Bytes{'V', 0x7f, 0xff, 0xff, 0xff}));              // 2 GiB record: refused from its header
  CHECK(fails(Bytes{'E', 0, 0, 0, 1, 0}));                       // an end record with a body
  CHECK(fails(Cat({Bytes{'V', 0, 0, 0, 2, 0, 0}, EncodeEnd()})));  // a voucher with no envelope
  CHECK(fails(Cat({Bytes{'V', 0, 0, 0, 3, 0x10, 0, 'x'}, EncodeEnd()})));  // source longer than the record
  CHECK(fails(Cat({Bytes{'R', 0, 0, 0, 4, 0, 0, 2, 'o'}, EncodeEnd()})));  // code cut short
  Bytes unknown_code = {'R', 0, 0, 0, 7, 0, 0, 4, 'n', 'o', 'p', 'e'};
  CHECK(fails(Cat({unknown_code, EncodeEnd()})));
  Bytes ok_code = {'T', 0, 0, 0, 7, 2, 'i', 'o', 0, 0, 0, 1};
  CHECK(Decode(Cat({ok_code, EncodeEnd()}), 1).ok());

  // The decoder buffers at most one record: a record announced but never completed holds
  // no more than its cap.
  Decoder d;
  d.Append(Bytes{'V', 0, 1, 0, 0});
  CHECK(d.Next().ok());
  CHECK(!d.Next()->has_value());
  d.Append(Bytes{'Z'});
  d.Append(Bytes(70000, 0));
  auto r = d.Next();
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kReaderFailed);
  CHECK(!d.Next().ok());
}

namespace {

// A logged voucher record by hand: source, envelope length as given, then the bytes.
Bytes Logged(const std::string& source, uint32_t envelope_length, const Bytes& rest) {
  Bytes body;
  body.push_back(static_cast<uint8_t>(source.size() >> 8));
  body.push_back(static_cast<uint8_t>(source.size()));
  body.insert(body.end(), source.begin(), source.end());
  for (int shift = 24; shift >= 0; shift -= 8) body.push_back(static_cast<uint8_t>(envelope_length >> shift));
  body.insert(body.end(), rest.begin(), rest.end());
  Bytes out{'L'};
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(body.size() >> shift));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

}  // namespace

TEST_CASE("a voucher's proof crosses the pipe with it, at its full caps", "[protocol][proof]") {
  Bytes env(65536, 'x'), proof(65536, 'p');
  Bytes stream = Cat({*EncodeVoucher("stick/v.vjj", env, proof), *EncodeVoucher("stick/w.vjj", Bytes{'{'}, Bytes{}),
                      *EncodeVoucher("stick/u.vjj", Bytes{'{'}), EncodeEnd()});
  for (size_t step : {size_t{1}, size_t{4093}, stream.size()}) {
    INFO(step);
    auto recs = Decode(stream, step);
    REQUIRE(recs.ok());
    REQUIRE(recs->size() == 4);
    CHECK((*recs)[0].type == RecordType::kLogged);
    CHECK((*recs)[0].source == "stick/v.vjj");
    CHECK((*recs)[0].envelope == env);
    REQUIRE((*recs)[0].proof);
    CHECK(*(*recs)[0].proof == proof);
    // An empty proof file is still a proof (one that will not parse), not "no proof".
    CHECK((*recs)[1].type == RecordType::kLogged);
    REQUIRE((*recs)[1].proof);
    CHECK((*recs)[1].proof->empty());
    CHECK((*recs)[2].type == RecordType::kVoucher);
    CHECK_FALSE((*recs)[2].proof);
  }
  CHECK(!EncodeVoucher("s", Bytes{'{'}, Bytes(65537, 'p')).ok());
  CHECK(!EncodeVoucher("s", Bytes(65537, 'x'), Bytes{}).ok());
}

TEST_CASE("hostile logged voucher records are refused as reader-failed", "[protocol][proof][hostile]") {
  auto fails = [](const Bytes& record) {
    auto r = Decode(Cat({record, EncodeEnd()}), 5);
    return !r.ok() && r.status().code() == Code::kReaderFailed;
  };
  CHECK_FALSE(fails(Logged("s", 1, Bytes{'{', 'p'})));               // well formed
  CHECK(fails(Logged("s", 0, Bytes{'p'})));                          // no envelope
  CHECK(fails(Logged("s", 3, Bytes{'{', 'p'})));                     // envelope longer than the record
  CHECK(fails(Logged("s", 65537, Bytes(65538, '{'))));               // envelope over its cap
  CHECK(fails(Logged("s", 0xffffffff, Bytes{'{'})));                 // a length that would wrap
  CHECK(fails(Logged("s", 1, Bytes(1 + 65537, 'p'))));               // proof over its cap
  CHECK(fails(Bytes{'L', 0, 0, 0, 3, 0, 0, 0}));                      // cut inside the envelope length
  CHECK(fails(Bytes{'L', 0, 0, 0, 3, 0, 9, 's'}));                    // source longer than the record
  // The whole record over its cap is refused from its header, before anything is buffered.
  Bytes header{'L'};
  uint32_t over = 2 + 4096 + 4 + 65536 + 65536 + 1;
  for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<uint8_t>(over >> shift));
  Decoder d;
  d.Append(header);
  CHECK(!d.Next().ok());
}

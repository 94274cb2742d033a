// The device's decoder of the medium reader's pipe (device/protocol.md): the reader is as
// hostile as the medium it parsed, so every byte stream must decode or fail as
// reader-failed, never crash, and never buffer more than one capped record. The first byte
// chooses how the pipe cuts the stream into reads.
#include "device/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t step = 1 + data[0] * 37u;
  vouch::device::Decoder d;
  for (size_t off = 1; off < size; off += step) {
    d.Append(vouch::ByteView(data + off, std::min(step, size - off)));
    for (;;) {
      auto r = d.Next();
      if (!r.ok() || !*r) break;
    }
    if (d.buffered() > vouch::device::kMaxRecordBytes + step + 5) __builtin_trap();
  }
  return 0;
}

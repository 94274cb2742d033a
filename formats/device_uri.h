// The device URI: what a device's QR code says, so that an owner meets a device by scanning
// it instead of copying a PEM file off it. Modelled on Wi-Fi Easy Connect (DPP) bootstrapping
// URIs, under vouch's own scheme. Spec page: formats/device_uri.md (grammar, reader rules,
// examples, bounds).
//
//   VOUCH:V:1;K:<base64 DER SPKI of X>;F:<UDF of X>;S:<percent-encoded serial>;;
//
// It carries the device key X (any suite: a P-256, Ed25519 or Ed448 SubjectPublicKeyInfo,
// libvoucher/key.h), X's UDF, which a person can compare with what the device prints, and the
// serial number the voucher names. Nothing in it is secret and nothing is signed: like a PEM
// file handed over, it is trusted because the owner took it from the device in hand.
#pragma once

#include <string>
#include <string_view>

#include "libvoucher/key.h"
#include "libvoucher/status.h"

namespace vouch::formats {

inline constexpr std::string_view kDeviceUriScheme = "VOUCH";
inline constexpr size_t kMaxDeviceUriSize = 4096;   // the whole text, in bytes
inline constexpr size_t kMaxDeviceUriSerial = 128;  // the serial, in bytes once decoded

struct DeviceUri {
  PublicKey key;       // X
  std::string serial;  // UTF-8, decoded
};

// The one spelling of a device URI for X and `serial`: fields in the order V, K, F, S, the
// serial percent-encoded (every byte outside ALPHA / DIGIT / "-" / "." / "_" / "~", as %XX in
// upper case). kMalformed for an empty serial, one that is not UTF-8 or holds a control
// character; kTooLarge for a serial over kMaxDeviceUriSerial bytes.
Result<std::string> EncodeDeviceUri(const PublicKey& key, std::string_view serial);

// Strict reader (formats/device_uri.md, "Reader rules"): kTooLarge over kMaxDeviceUriSize
// bytes or a serial over kMaxDeviceUriSerial; kMalformed for bad grammar, a field twice, a
// missing K, F or S, a K or F that is not in its one spelling; kUnsupported for a version
// other than 1; kInvalidKey / kUnsupported as PublicKey::FromSpkiDer says for the key;
// kUdfMismatch when F is not the UDF of K. Unknown fields (another upper-case letter) are
// ignored, so that later versions of the writer can add some. Messages never quote more than
// the start of the input.
Result<DeviceUri> DecodeDeviceUri(std::string_view text);

// True when `text` starts with the scheme ("VOUCH:", any case): what a devices file line or
// a flag value that is meant as a device URI looks like, before it is decoded.
bool LooksLikeDeviceUri(std::string_view text);

}  // namespace vouch::formats

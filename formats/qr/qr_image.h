// Drawing a QR code (qr_code.h): on a terminal, as SVG, as PNG. Every drawing has the quiet
// zone (kQuietZone modules of light on each side). Spec of what is drawn: formats/device_uri.md,
// "QR codes".
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "formats/qr/qr_code.h"
#include "libvoucher/bytes.h"
#include "libvoucher/file.h"
#include "libvoucher/status.h"
#include "libvoucher/library_version.h"

namespace vouch::formats::qr {

inline constexpr int kPngScale = 8;  // pixels per module: 4 cm wide for a P-256 URI at 150 dpi

// UTF-8 half blocks, two module rows per text row: (size + 2 * kQuietZone + 1) / 2 lines,
// each size + 2 * kQuietZone characters after `indent`, ending in "\n". Each line is drawn
// black on bright white with explicit ANSI colours (SGR 30;107, reset at its end), so the code
// reads the same, dark modules dark, on dark and on light terminal themes.
std::string RenderTerminal(const QrCode& code, std::string_view indent = "");

// A standalone SVG document: a white background and one black path of the dark modules, one
// user unit per module, the quiet zone included in its viewBox.
std::string RenderSvg(const QrCode& code);

// An 8-bit greyscale PNG, `scale` pixels per module (1..64), the quiet zone included.
// kInternal when libpng fails.
Result<Bytes> RenderPng(const QrCode& code, int scale = kPngScale);

enum class ImageFormat { kPng, kSvg };
// By the file name's extension, ".png" or ".svg" in any case; nullopt for anything else.
std::optional<ImageFormat> ImageFormatOf(const std::filesystem::path& path);

// Writes the drawing atomically (libvoucher/file.h WriteFileAtomic), mode 0644.
Status WriteImage(const std::filesystem::path& path, const QrCode& code, ImageFormat format,
                  Overwrite overwrite = Overwrite::kNo);

// libpng: PNG_LIBPNG_VER_STRING, and png_get_libpng_ver() at run time.
LinkedLibrary PngLibraryVersion();

}  // namespace vouch::formats::qr

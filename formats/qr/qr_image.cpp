#include "formats/qr/qr_image.h"

#include <algorithm>
#include <cctype>

namespace vouch::formats::qr {

std::string RenderTerminal(const QrCode& code, std::string_view indent) {
  // Explicit colours rather than the terminal's own: a QR code is dark modules on light, and
  // plain blocks would come out inverted on a dark theme, which many scanners cannot read.
  static constexpr std::string_view kBlackOnWhite = "\x1b[30;107m", kReset = "\x1b[0m";
  static constexpr std::string_view kBlocks[4] = {" ", "\u2580", "\u2584", "\u2588"};  // ' ' ▀ ▄ █
  const int lo = -kQuietZone, hi = code.size() + kQuietZone;
  std::string out;
  for (int y = lo; y < hi; y += 2) {
    out += indent;
    out += kBlackOnWhite;
    for (int x = lo; x < hi; ++x) {
      // Upper module in the character's top half, lower one in its bottom half; the row
      // below the last (when the total is odd) is quiet zone, light.
      int index = (code.dark(x, y) ? 1 : 0) | (code.dark(x, y + 1) ? 2 : 0);
      out += kBlocks[index];
    }
    out += kReset;
    out += "\n";
  }
  return out;
}

std::string RenderSvg(const QrCode& code) {
  const int n = code.size() + 2 * kQuietZone;
  const std::string side = std::to_string(n);
  std::string path;
  // One subpath per horizontal run of dark modules: a few hundred short commands.
  for (int y = 0; y < code.size(); ++y) {
    for (int x = 0; x < code.size();) {
      if (!code.dark(x, y)) {
        ++x;
        continue;
      }
      int run = 1;
      while (code.dark(x + run, y)) ++run;
      path += "M" + std::to_string(x + kQuietZone) + " " + std::to_string(y + kQuietZone) + "h" + std::to_string(run) +
              "v1h-" + std::to_string(run) + "z";
      x += run;
    }
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + side + " " + side + "\" width=\"" +
         std::to_string(n * kPngScale) + "\" height=\"" + std::to_string(n * kPngScale) +
         "\" shape-rendering=\"crispEdges\">\n"
         "<rect width=\"" + side + "\" height=\"" + side + "\" fill=\"#fff\"/>\n"
         "<path fill=\"#000\" d=\"" + path + "\"/>\n"
         "</svg>\n";
}

std::optional<ImageFormat> ImageFormatOf(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".png") return ImageFormat::kPng;
  if (ext == ".svg") return ImageFormat::kSvg;
  return std::nullopt;
}

Status WriteImage(const std::filesystem::path& path, const QrCode& code, ImageFormat format, Overwrite overwrite) {
  Bytes data;
  if (format == ImageFormat::kPng) {
    VOUCH_ASSIGN_OR_RETURN(data, RenderPng(code));
  } else {
    std::string svg = RenderSvg(code);
    data.assign(svg.begin(), svg.end());
  }
  return WriteFileAtomic(path, data, 0644, overwrite);
}

}  // namespace vouch::formats::qr

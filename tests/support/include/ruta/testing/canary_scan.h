// Canary scan (DESIGN.md §6): tests plant distinctive identifiers
// ("canaries") in the requests they send, then search every byte a node wrote
// for them, in the encodings a leak would likely take.
//
// Each canary is searched as these forms (deduplicated by their bytes):
//   text forms:  the clear bytes, NFC, NFD, lower case, upper case, and the
//                normalized form of ruta::core::NormalizeName (accents
//                stripped, case folded, spacing collapsed: "José Ñaupa" ->
//                "jose naupa") and its upper case;
//   of each text form: hex (lower and upper case), base64 and web-safe base64
//                at the three alignments (the text preceded by 0, 1 or 2
//                bytes, without the characters that depend on what precedes
//                or follows it), and UTF-16LE.
// Files are read in chunks that overlap by the longest form, so a hit across
// a chunk boundary is found; files of any size are scanned.
//
// Adding an output (metrics, backups, exports, ...): a new file inside a
// node's data directory is scanned already (directories are walked
// recursively); an output elsewhere is added to OutputsOf() in
// tests/integration/canary_test.cc, which hands every path to AddPath:
//     std::vector<std::string> OutputsOf(const NodeProcess& node) {
//       return {node.data_dir, node.backup_dir};
//     }
// A path given with AddPath that does not exist when Run is called is an
// error of the scan, so an output that silently moved is noticed.
#ifndef RUTA_TESTING_CANARY_SCAN_H_
#define RUTA_TESTING_CANARY_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"

namespace ruta::testing {

// One searched form of a canary.
struct CanaryForm {
  std::string bytes;
  // How it was made, e.g. "clear", "normalized", "hex of lower",
  // "base64url+1 of clear" (+k: the canary preceded by k bytes),
  // "utf-16le of upper".
  std::string encoding;
};

// Canaries shorter than this (in bytes) are refused: a short form would hit
// by chance in binary data.
inline constexpr size_t kMinCanaryBytes = 6;

// The forms searched for `canary` (valid UTF-8 of at least kMinCanaryBytes),
// the clear bytes first. A form shorter than 4 bytes (a normalized form of a
// canary that is mostly punctuation) is left out.
std::vector<CanaryForm> CanaryForms(const std::string& canary);

struct CanaryHit {
  std::string path;
  uint64_t offset = 0;  // of the form's first byte in the file
  std::string canary;   // as given to AddCanary
  std::string encoding;
};

struct CanaryScanResult {
  // At most kMaxReportedHits hits, in file order; hit_count counts them all.
  static constexpr size_t kMaxReportedHits = 1000;
  std::vector<CanaryHit> hits;
  uint64_t hit_count = 0;
  // Every regular file scanned, with its size in bytes.
  std::vector<std::pair<std::string, uint64_t>> files;
  uint64_t bytes = 0;  // the sum of the sizes
  // What could not be scanned (a missing path, an unreadable file or
  // directory), each with the reason. A scan with errors proves nothing.
  std::vector<std::string> errors;

  // "N hits in F files (B bytes)" and the first `max_hits` hits, one a line.
  std::string Describe(size_t max_hits = 20) const;
};

// A set of canaries and of paths to search them in. Not thread-safe; Run
// may be called several times (e.g. before and after planting a control).
class CanaryScan final {
 public:
  // INVALID_ARGUMENT when `canary` is not valid UTF-8 or shorter than
  // kMinCanaryBytes. Adding the same canary twice is harmless.
  absl::Status AddCanary(const std::string& canary);
  // A file or a directory (walked recursively; every regular file in it is
  // scanned, symbolic links are not followed).
  void AddPath(const std::string& path);
  // Bytes read at a time (default 1 MiB); tests make it small to put
  // boundaries where they want them.
  void set_chunk_bytes(size_t bytes) { chunk_bytes_ = bytes > 0 ? bytes : 1; }

  size_t canary_count() const { return canaries_.size(); }
  size_t form_count() const { return forms_.size(); }

  CanaryScanResult Run() const;

 private:
  struct Form {
    std::string bytes;
    size_t canary = 0;  // index in canaries_
    std::string encoding;
  };
  struct Index;  // the forms by their first 4 bytes (canary_scan.cc)
  void ScanFile(const std::string& path, const Index& index,
                CanaryScanResult& result) const;

  std::vector<std::string> canaries_;
  absl::flat_hash_set<std::string> canary_set_;
  std::vector<Form> forms_;
  absl::flat_hash_set<std::string> form_bytes_;  // forms_ has each once
  std::vector<std::string> paths_;
  size_t chunk_bytes_ = size_t{1} << 20;
};

}  // namespace ruta::testing

#endif  // RUTA_TESTING_CANARY_SCAN_H_

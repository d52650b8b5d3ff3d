#!/usr/bin/env bash
# Every C++ and proto file of the repository is clang-formatted (Google
# style, .clang-format at the root).
set -euo pipefail
repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
mapfile -t files < <(git ls-files '*.cc' '*.h' '*.proto')
((${#files[@]} > 0)) || { echo "format_check: no files found" >&2; exit 1; }
clang-format --dry-run -Werror "${files[@]}"
echo "format_check: ${#files[@]} files are formatted"

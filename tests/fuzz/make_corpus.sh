#!/usr/bin/env bash
# Regenerates the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/seed-*) and
# tests/fuzz/hierarchy_data.h with tests/fuzz/make_corpus.cc, built in BUILD_DIR
# (default build/, the normal gcc build). New keys every time: commit the seeds and
# hierarchy_data.h together. Reproducers found by fuzzing (regress-*) are kept.
#
#   tests/fuzz/make_corpus.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir="${1:-build}"
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S . -B "$build_dir" -DRESOLVER_SYSTEM_TESTS=OFF >/dev/null
fi
cmake --build "$build_dir" --target make_fuzz_corpus
"$build_dir/tests/make_fuzz_corpus" "$PWD"
du -sh tests/fuzz/corpus

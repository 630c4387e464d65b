#!/usr/bin/env bash
# Checks that the verifier crate builds for phones: an rlib for Android
# (aarch64-linux-android) and iOS (aarch64-apple-ios), what a native app links
# into its own library (no NDK or Xcode linker exists here, so no cdylib).
# Needs the targets' standard libraries (`rustup target add`); when rustup cannot
# fetch them (no network to its dist server), the step says so and skips.
set -euo pipefail
cd "$(dirname "$0")/.."
for target in aarch64-linux-android aarch64-apple-ios; do
  if ! rustup target list --installed | grep -qx "$target" && ! rustup target add "$target" >/dev/null 2>&1; then
    echo "skipped $target: its standard library is not installed and rustup could not fetch it"
    continue
  fi
  cargo rustc --release -q -p zkinfer-verifier --lib --target "$target" --crate-type rlib
  echo "ok $target: $(du -h "target/$target/release/libzkinfer_verifier.rlib" | cut -f1) rlib"
done

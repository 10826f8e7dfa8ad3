#!/usr/bin/env bash
# Refreshes the Traditional-to-Simplified character table (OpenCC's TSCharacters.txt, Apache-2.0) that
# ProductSimilarity.Core embeds, from the opencc package on the npm registry. Usage: scripts/update-opencc-table.sh [VERSION]
set -euo pipefail
version="${1:-1.4.2}"
here="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "opencc@$version" >/dev/null && tar xzf "opencc-$version.tgz")
cp "$tmp/package/data/dictionary/TSCharacters.txt" "$here/src/ProductSimilarity.Core/Text/Data/TSCharacters.txt"
cp "$tmp/package/LICENSE" "$here/src/ProductSimilarity.Core/Text/Data/OpenCC-LICENSE.txt"
echo "TSCharacters.txt from opencc $version"

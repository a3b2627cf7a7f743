#!/usr/bin/env bash
# Regenerate the binary files of public/ (the committed copies are what the servers and benchmarks
# use; run this only to change them). Needs ImageMagick's `convert` and Node.js. Deterministic: a
# fixed plasma seed, metadata stripped, and a SHA-256 counter stream for the 1 MiB file.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p public/images public/files

# Two JPEGs of about 15 KB and 75 KB: jpeg:extent picks the quality that fits under the size.
picture() { # out width height seed colours label extent
  convert -size "$2x$3" -seed "$4" "plasma:$5" -blur 0x1.2 \
    -gravity southeast -fill 'rgba(255,255,255,0.85)' -pointsize "$(($3 / 9))" -annotate +14+8 "$6" \
    -strip -define "jpeg:extent=$7" "$1"
}
picture public/images/small.jpg 400 260 7 steelblue-orange '15 KB' 15kb
picture public/images/large.jpg 960 600 11 midnightblue-gold '75 KB' 75kb

# Favicon: a round-robin ring of four dots, 16 and 32 pixels.
convert -size 64x64 xc:none -fill '#1f4e79' -draw 'circle 32,32 32,4' \
  -fill '#f2b134' -draw 'circle 32,14 32,8' -draw 'circle 50,32 56,32' \
  -draw 'circle 32,50 32,56' -draw 'circle 14,32 8,32' \
  -define icon:auto-resize=32,16 public/favicon.ico

# Exactly 1 MiB of incompressible bytes for the large-file benchmark (streamed, never cached).
node -e '
  const { createHash } = require("node:crypto");
  const out = Buffer.alloc(1 << 20);
  for (let i = 0; i * 32 < out.length; i++) createHash("sha256").update(`supervised-balancer ${i}`).digest().copy(out, i * 32);
  require("node:fs").writeFileSync("public/files/1mb.bin", out);
'
ls -l public/images/small.jpg public/images/large.jpg public/favicon.ico public/files/1mb.bin

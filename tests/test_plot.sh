#!/usr/bin/env bash
# facesr-plot on a small made-up run folder: writes a 900x900 PNG, tolerates a last row cut short
# (a run killed mid-write), and fails with a message when the run folder has no logs.
# usage: test_plot.sh FACESR_PLOT
set -euo pipefail
plot=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
{
  echo "step,phase,d_global,d_local,g_adv_global,g_adv_local,pix,pix_masked,pix_sharp,pix_blurred,vgg,fm,g_total,seconds"
  for s in $(seq 1 120); do
    phase=1; [[ $s -gt 80 ]] && phase=2
    echo "$s,$phase,0.2,0.1,0.3,0.2,$(awk "BEGIN{print 0.2/(1+$s/30)}"),0.02,0.05,0.03,0,0,10,1.1"
  done
  printf "121,2,0.2,0.1"   # cut short
} > "$dir/log.csv"
printf "step,psnr,ssim,bicubic_psnr,bicubic_ssim,faces\n40,25.1,0.79,26.4,0.81,12\n80,26.9,0.82,26.4,0.81,12\n120,27.5,0.83,26.4,0.81,12\n" > "$dir/validation.csv"
"$plot" "$dir" --out "$dir/curve.png" | tee "$dir/out.txt"
grep -q "120 steps, 3 validations, phase 2 from step 81" "$dir/out.txt" ||
  { echo "FAIL: expected 120 complete steps, 3 validations, phase 2 from step 81"; exit 1; }
grep -q "last validation: step 120, PSNR 27.50 dB (bicubic 26.40), SSIM 0.8300" "$dir/out.txt" ||
  { echo "FAIL: last validation row misread"; exit 1; }
python3 - "$dir/curve.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (900, 900), (w, h)
PY
rm "$dir/validation.csv"
if "$plot" "$dir" --out "$dir/x.png" 2> "$dir/err.txt"; then echo "FAIL: succeeded without validation.csv"; exit 1; fi
grep -q "validation.csv" "$dir/err.txt" || { echo "FAIL: message does not name the missing file"; cat "$dir/err.txt"; exit 1; }
echo "ok"

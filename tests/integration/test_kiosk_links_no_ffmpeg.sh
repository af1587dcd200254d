#!/usr/bin/env bash
# The kiosk (sabak) must not map FFmpeg: linking libavformat/libavcodec alone
# costs ~26 MB of resident memory. Only the sabak-pack helper may link them.
set -euo pipefail
: "${SABAK:?}" "${SABAK_PACK:?}"
fail=0
kiosk_libs=$(ldd "$SABAK")
pack_libs=$(ldd "$SABAK_PACK")
if grep -E 'lib(avformat|avcodec|avfilter|swscale|swresample)\.so' <<<"$kiosk_libs"; then
  echo "FAIL: $SABAK links FFmpeg libraries" >&2
  fail=1
fi
if ! grep -q 'libavcodec\.so' <<<"$pack_libs"; then
  echo "FAIL: $SABAK_PACK does not link libavcodec (is the check itself broken?)" >&2
  fail=1
fi
# `sabak pack` finds its helper and passes its arguments on.
out=$("$SABAK" pack --help)
case "$out" in
  "Usage: sabak pack"*) ;;
  *) echo "FAIL: 'sabak pack --help' did not reach sabak-pack: $out" >&2; fail=1 ;;
esac
if [ $fail -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $fail

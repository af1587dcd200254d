#!/usr/bin/env bash
# The layers are enforced by the link (docs/ARCHITECTURE.md): sabak-pack
# (media -> core) must carry nothing of the kiosk, and libsabak-core must need
# nothing from the kiosk or from FFmpeg. A stray call from media into kiosk
# code pulls the whole server, libmicrohttpd and libqrencode into sabak-pack,
# which this test catches on the binary itself (nm), not on the sources.
set -euo pipefail
: "${SABAK_PACK:?}" "${SABAK_BUILD:?}"
fail=0
kiosk_syms='^(sbk_http_|sbk_route|sbk_library|sbk_web_|sbk_kiosk_|MHD_|QRcode_)'

# Defined or needed, static or dynamic.
pack_syms=$( { nm "$SABAK_PACK" 2>/dev/null; nm -D "$SABAK_PACK" 2>/dev/null; } |
             awk '{print $NF}' | sed 's/@.*//' | sort -u)
if [ "$(wc -l <<<"$pack_syms")" -lt 50 ]; then
  echo "FAIL: nm found almost no symbols in $SABAK_PACK (is the check itself broken?)" >&2
  fail=1
fi
if ! grep -q '^sbk_embed_find$' <<<"$pack_syms"; then
  echo "FAIL: $SABAK_PACK has no sbk_embed_find (is the check itself broken?)" >&2
  fail=1
fi
if bad=$(grep -E "$kiosk_syms" <<<"$pack_syms"); then
  echo "FAIL: $SABAK_PACK defines or needs kiosk symbols:" >&2
  sed 's/^/  /' <<<"$bad" | head -20 >&2
  fail=1
fi
if bad=$(ldd "$SABAK_PACK" | grep -E 'lib(microhttpd|qrencode)\.so'); then
  echo "FAIL: $SABAK_PACK links the kiosk's libraries:" >&2
  echo "$bad" >&2
  fail=1
fi

# The static libraries: what each one needs (undefined symbols).
core="$SABAK_BUILD/src/libsabak-core.a"
media="$SABAK_BUILD/src/libsabak-media.a"
kiosk="$SABAK_BUILD/src/libsabak-kiosk.a"
carry="$SABAK_BUILD/src/libsabak-carry.a"
for lib in "$core" "$media" "$kiosk" "$carry"; do
  [ -f "$lib" ] || { echo "FAIL: $lib is missing" >&2; fail=1; }
done
needs() { nm -u "$1" 2>/dev/null | awk '{print $NF}' | sort -u; }
if bad=$(needs "$core" | grep -E "$kiosk_syms|^(av|avformat|avcodec|swr|sws)_|^sbk_(media|pack|carry|stats)_"); then
  echo "FAIL: libsabak-core needs symbols of an upper layer:" >&2
  sed 's/^/  /' <<<"$bad" | head -20 >&2
  fail=1
fi
if bad=$(needs "$media" | grep -E "$kiosk_syms"); then
  echo "FAIL: libsabak-media needs kiosk symbols:" >&2
  sed 's/^/  /' <<<"$bad" | head -20 >&2
  fail=1
fi
if bad=$(needs "$kiosk" | grep -E '^(av|avformat|avcodec|swr|sws)_|^sbk_(media|pack)_'); then
  echo "FAIL: libsabak-kiosk needs media symbols:" >&2
  sed 's/^/  /' <<<"$bad" | head -20 >&2
  fail=1
fi
if bad=$(needs "$carry" | grep -E "$kiosk_syms|^(av|avformat|avcodec|swr|sws)_|^sbk_(media|pack)_"); then
  echo "FAIL: libsabak-carry needs kiosk or media symbols:" >&2
  sed 's/^/  /' <<<"$bad" | head -20 >&2
  fail=1
fi
if [ $fail -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $fail

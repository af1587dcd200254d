"""Helpers for the test_media_* tests: generate a short source with the
ffmpeg program (lavfi), put it in a lesson folder, pack it with the real
sabak, and look inside the renditions (ffprobe, raw frames and samples)."""
import json
import os
import shlex
import struct
import subprocess
import zipfile

from sabaktest import SABAK, tmpdir  # noqa: F401  (re-exported)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def ffmpeg(args):
    """ffmpeg with a list or a shell-like string of arguments."""
    if isinstance(args, str):
        args = shlex.split(args)
    r = run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args])
    if r.returncode != 0:
        raise RuntimeError("ffmpeg %s failed: %s" % (" ".join(args), r.stderr.decode()[-500:]))


def ffprobe(path, *extra):
    r = run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format",
             *extra, path])
    if r.returncode != 0:
        raise RuntimeError("ffprobe %s: %s" % (path, r.stderr.decode()[-300:]))
    return json.loads(r.stdout)


def lesson(parent, lid, src_name, extra_ini=""):
    """A lesson folder for an existing source file parent/<lid>/<src_name>."""
    d = os.path.join(parent, lid)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "lesson.ini"), "w", encoding="utf-8") as f:
        f.write("[lesson]\nid = %s\nversion = 1\nvideo = %s\n%s\n[title]\nen = %s\n"
                % (lid, src_name, extra_ini, lid))
    return d


def pack(d, out, tiers="standard,audio"):
    """(returncode, stderr, bundle path or None)."""
    os.makedirs(out, exist_ok=True)
    r = run([SABAK, "pack", d, "-o", out + "/", "--tiers", tiers, "--quiet", "--jobs", "1"])
    lid = os.path.basename(d)
    z = os.path.join(out, "%s-v1.zip" % lid)
    return r.returncode, r.stderr.decode(), (z if r.returncode == 0 and os.path.exists(z) else None)


def verify(bundle):
    r = run([SABAK, "verify", bundle])
    return r.returncode, (r.stdout + r.stderr).decode()


def manifest(bundle):
    with zipfile.ZipFile(bundle) as z:
        return json.loads(z.read("manifest.json"))


def extract(bundle, entry, dest):
    with zipfile.ZipFile(bundle) as z:
        data = z.read(entry)
    path = os.path.join(dest, entry.replace("/", "_"))
    with open(path, "wb") as f:
        f.write(data)
    return path


def decode_fully(path):
    """(ok, message): every frame of every stream decodes without an error."""
    r = run(["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", path, "-map", "0",
             "-f", "null", "-"])
    err = r.stderr.decode().strip()
    return r.returncode == 0 and not err, err[-300:]


def gray_frames(path, w=32, h=24, fps=None):
    """Every frame scaled to w x h gray, as bytes; with fps, resampled."""
    vf = "scale=%d:%d" % (w, h) + (",fps=%s" % fps if fps else "")
    r = run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-vf", vf,
             "-fps_mode", "cfr" if fps else "passthrough", "-f", "rawvideo",
             "-pix_fmt", "gray", "-"], check=True)
    n = w * h
    return [r.stdout[i:i + n] for i in range(0, len(r.stdout) - n + 1, n)]


def frame_times(path):
    """Presentation times (s) of the video frames as the decoder gives them,
    from the file's start time."""
    start = float(ffprobe(path)["format"].get("start_time", 0) or 0)
    r = run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
             "frame=pts_time,best_effort_timestamp_time", "-of", "csv=p=0", path], check=True)
    out = []
    for line in r.stdout.decode().split():
        vals = [v for v in line.split(",") if v and v != "N/A"]
        if vals:
            out.append(float(vals[0]) - start)
    return out


def samples(path, rate=8000):
    """Mono 16-bit samples of the first audio stream at `rate`, as a list,
    placed by their timestamps from t=0 as a player would (gaps filled)."""
    r = run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0", "-ac", "1",
             "-af", "aresample=%d:async=1:min_hard_comp=0.01:first_pts=0" % rate,
             "-f", "s16le", "-"], check=True)
    return list(struct.unpack("<%dh" % (len(r.stdout) // 2), r.stdout))


def mean_luma(path, t=1.0):
    """Mean Y (0..255, limited-range code values as stored) of one frame at t."""
    r = run(["ffmpeg", "-nostdin", "-v", "error", "-ss", str(t), "-i", path, "-frames:v", "1",
             "-vf", "extractplanes=y", "-f", "rawvideo", "-pix_fmt", "gray", "-"], check=True)
    return sum(r.stdout) / max(1, len(r.stdout))

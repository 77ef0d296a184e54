"""cv2 oracle for cv-preprocess's parity tests: writes random image files, decodes and resizes them with
cv2 itself, and streams what cv2 computed to the Rust test on stdout (one process for all cases).

Usage: python cv2_oracle.py fuzz --dir DIR --count N --seed S [--start I] [--truncated-jpeg-only]
       python cv2_oracle.py resize   (reads JSON requests on stdin; see resize_server)

Record format on stdout, per case: one JSON header line, then the raw payloads it lists, back to back:
  header {"name", "file", "format", "kind", "ok", "decoded": [h, w], "extra": {"w", "h", "cn", "interp"}}
  payloads (only when ok): decoded BGR uint8 (h*w*3), resized 64x64 BGR uint8 (64*64*3),
  tensor float32 little-endian (3*64*64), extra resize uint8 (extra.h*extra.w*extra.cn).
The extra resize runs on a channel view of the decoded image that the Rust side rebuilds the same way:
cn=1: B; cn=2: B, G; cn=3: B, G, R; cn=4: B, G, R, B^G.
"""

import argparse
import io
import json
import os
import sys

import cv2
import numpy as np
from PIL import Image

# SSRNet's reference normalisation (the OpenCV path of ../shared/ssrnet/ARCHITECTURE.md).
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
INTERP = {"linear": cv2.INTER_LINEAR, "linear-exact": cv2.INTER_LINEAR_EXACT, "area": cv2.INTER_AREA}
SAMPLING = {
    "420": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420,
    "422": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422,
    "444": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
    "440": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_440,
    "411": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_411,
}


def preprocess(bgr):
    resized = cv2.resize(bgr, (64, 64), interpolation=cv2.INTER_LINEAR)
    x = resized.astype(np.float32) / 255.0
    x = (x - MEAN) / STD
    return resized, np.ascontiguousarray(x.transpose(2, 0, 1), dtype="<f4")


def channel_view(bgr, cn):
    if cn == 4:
        return np.ascontiguousarray(np.dstack([bgr, bgr[:, :, 0] ^ bgr[:, :, 1]]))
    return np.ascontiguousarray(bgr[:, :, :cn])


def content(rng, h, w, c, depth=8):
    """Random image content: noise, smooth fields, gradients and flat blocks, mixed."""
    kind = rng.integers(0, 4)
    top = 255 if depth == 8 else 65535
    dtype = np.uint8 if depth == 8 else np.uint16
    if kind == 0:
        img = rng.integers(0, top + 1, size=(h, w, c))
    elif kind == 1:
        small = rng.random((max(1, h // 16 + 1), max(1, w // 16 + 1), c)).astype(np.float32)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).reshape(h, w, c)
        img = np.clip(img, 0, 1) * top + rng.normal(0, top * 0.02, size=(h, w, c))
    elif kind == 2:
        yy, xx = np.mgrid[0:h, 0:w]
        img = np.stack([(xx * (ch + 1) * 7 + yy * 3 * (c - ch)) % (top + 1) for ch in range(c)], axis=-1)
    else:
        img = np.zeros((h, w, c))
        for _ in range(8):
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            img[y0 : y0 + rng.integers(1, h + 1), x0 : x0 + rng.integers(1, w + 1)] = rng.integers(0, top + 1, size=c)
    return np.clip(img, 0, top).astype(dtype)


def squeeze(img):
    return img[:, :, 0] if img.shape[2] == 1 else img


def exif_bytes(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def make_case(rng, i, directory, truncated_jpeg_only=False):
    """Writes one random image file; returns (path, format, kind)."""
    h, w = (int(v) for v in rng.integers(1, 1501, size=2))
    # Keep the average size moderate so CI stays quick: half the cases small on one axis.
    if rng.random() < 0.5:
        h = int(rng.integers(1, 200))
    c = int(rng.choice([1, 3, 4]))
    r = 0.0 if truncated_jpeg_only else rng.random()
    base = os.path.join(directory, f"case{i:05d}")
    if r < 0.45:
        q = int(rng.integers(50, 101))
        sampling = str(rng.choice(["420", "422", "444", "420", "440", "411"]))
        progressive = int(rng.random() < 0.3)
        params = [cv2.IMWRITE_JPEG_QUALITY, q, cv2.IMWRITE_JPEG_PROGRESSIVE, progressive,
                  cv2.IMWRITE_JPEG_SAMPLING_FACTOR, SAMPLING[sampling]]
        if rng.random() < 0.15:
            params += [cv2.IMWRITE_JPEG_RST_INTERVAL, int(rng.integers(1, 20))]
        if rng.random() < 0.2:
            params += [cv2.IMWRITE_JPEG_OPTIMIZE, 1]
        path = base + ".jpg"
        assert cv2.imwrite(path, squeeze(content(rng, h, w, c)), params)
        kind = f"jpeg c{c} q{q} {sampling}{' progressive' if progressive else ''}"
        if (truncated_jpeg_only or rng.random() < 0.06) and os.path.getsize(path) > 400:
            data = open(path, "rb").read()
            cut = int(rng.integers(len(data) // 2, len(data) - 2))
            open(path, "wb").write(data[:cut])
            kind += f" truncated@{cut}"
        return path, "jpeg", kind
    if r < 0.55:
        # PIL-written JPEGs: EXIF orientation, CMYK (Adobe), grayscale.
        path = base + ".jpg"
        mode = str(rng.choice(["RGB", "L", "CMYK"]))
        arr = content(rng, h, w, 4 if mode == "CMYK" else (1 if mode == "L" else 3))
        img = Image.fromarray(squeeze(arr), mode=mode)
        orientation = int(rng.integers(1, 9))
        q = int(rng.integers(50, 101))
        img.save(path, quality=q, exif=exif_bytes(orientation), subsampling=int(rng.integers(0, 3)))
        return path, "jpeg", f"pil jpeg {mode} q{q} exif-orientation {orientation}"
    if r < 0.75:
        depth = 16 if rng.random() < 0.3 else 8
        path = base + ".png"
        assert cv2.imwrite(path, squeeze(content(rng, h, w, c, depth)),
                           [cv2.IMWRITE_PNG_COMPRESSION, int(rng.integers(0, 10))])
        return path, "png", f"png c{c} {depth}-bit"
    if r < 0.88:
        path = base + ".png"
        mode = str(rng.choice(["P", "P-trns", "1", "LA", "I;16", "L-exif", "RGBA-exif"]))
        if mode.startswith("P"):
            img = Image.fromarray(content(rng, h, w, 3)).convert("P", palette=Image.Palette.ADAPTIVE,
                                                                colors=int(rng.integers(2, 257)))
            if mode == "P-trns":
                img.info["transparency"] = 0
            img.save(path)
        elif mode == "1":
            Image.fromarray(content(rng, h, w, 1)[:, :, 0]).convert("1").save(path)
        elif mode == "LA":
            Image.fromarray(content(rng, h, w, 2), mode="LA").save(path)
        elif mode == "I;16":
            Image.fromarray(content(rng, h, w, 1, 16)[:, :, 0]).save(path)
        else:
            orientation = int(rng.integers(1, 9))
            arr = content(rng, h, w, 1 if mode.startswith("L") else 4)
            Image.fromarray(squeeze(arr)).save(path, exif=exif_bytes(orientation))
            mode += f" {orientation}"
        return path, "png", f"pil png {mode}"
    if r < 0.95:
        path = base + ".bmp"
        if rng.random() < 0.6:
            assert cv2.imwrite(path, squeeze(content(rng, h, w, c)))
            return path, "bmp", f"bmp c{c}"
        mode = str(rng.choice(["P", "1", "L"]))
        img = Image.fromarray(content(rng, h, w, 3))
        img = img.convert("P", palette=Image.Palette.ADAPTIVE, colors=16) if mode == "P" else img.convert(mode)
        img.save(path)
        return path, "bmp", f"pil bmp {mode}"
    # Formats beyond PNG/JPEG/BMP: reported, not asserted (see the crate docs).
    fmt = str(rng.choice(["tiff", "webp", "ppm", "pgm", "gif"]))
    path = f"{base}.{fmt}"
    if fmt == "gif":
        Image.fromarray(content(rng, h, w, 3)).save(path)
    elif fmt == "pgm":
        assert cv2.imwrite(path, content(rng, h, w, 1)[:, :, 0])
    elif fmt == "ppm":
        assert cv2.imwrite(path, content(rng, h, w, 3))
    elif fmt == "webp":
        assert cv2.imwrite(path, squeeze(content(rng, h, w, c)), [cv2.IMWRITE_WEBP_QUALITY, 101])
    else:
        depth = 16 if rng.random() < 0.3 else 8
        assert cv2.imwrite(path, squeeze(content(rng, h, w, c, depth)))
        return path, fmt, f"other {fmt} c{c} {depth}-bit"
    return path, fmt, f"other {fmt} c{c}"


def emit(out, header, payloads):
    out.write((json.dumps(header) + "\n").encode())
    for p in payloads:
        out.write(p)
    out.flush()


def fuzz(args):
    out = sys.stdout.buffer
    for i in range(args.start, args.start + args.count):
        # One generator per case, so any case can be regenerated alone (--start i --count 1).
        rng = np.random.default_rng([args.seed, i])
        path, fmt, kind = make_case(rng, i, args.dir, args.truncated_jpeg_only)
        bgr = cv2.imread(path)
        header = {"name": f"case{i:05d}", "file": path, "format": fmt, "kind": kind, "ok": bgr is not None}
        if bgr is None:
            emit(out, header, [])
            continue
        resized, tensor = preprocess(bgr)
        h, w = bgr.shape[:2]
        cn = int(rng.integers(1, 5))
        interp = str(rng.choice(list(INTERP)))
        ew = int(rng.choice([int(rng.integers(1, 200)), max(1, w // 2), w * 2, max(1, w // 3), w]))
        eh = int(rng.choice([int(rng.integers(1, 200)), max(1, h // 2), h * 2, max(1, h // 3), h]))
        ew, eh = min(ew, 1500), min(eh, 1500)
        extra = cv2.resize(channel_view(bgr, cn), (ew, eh), interpolation=INTERP[interp])
        header["decoded"] = [h, w]
        header["extra"] = {"w": ew, "h": eh, "cn": cn, "interp": interp}
        emit(out, header, [bgr.tobytes(), resized.tobytes(), tensor.tobytes(), extra.tobytes()])


def resize_server(_args):
    """One JSON request per stdin line: {"h", "w", "cn", "dw", "dh", "interp", "seed"}; answers with the
    random source and cv2's result as one JSON line."""
    for line in sys.stdin:
        req = json.loads(line)
        rng = np.random.default_rng(req["seed"])
        src = rng.integers(0, 256, size=(req["h"], req["w"], req["cn"]), dtype=np.uint8)
        out = cv2.resize(src, (req["dw"], req["dh"]), interpolation=INTERP[req["interp"]])
        print(json.dumps({"src": src.ravel().tolist(), "out": out.ravel().tolist()}), flush=True)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fuzz")
    f.add_argument("--dir", required=True)
    f.add_argument("--count", type=int, required=True)
    f.add_argument("--seed", type=int, required=True)
    f.add_argument("--start", type=int, default=0)
    f.add_argument("--truncated-jpeg-only", action="store_true")
    sub.add_parser("resize")
    args = p.parse_args()
    cv2.setNumThreads(1)
    {"fuzz": fuzz, "resize": resize_server}[args.cmd](args)


if __name__ == "__main__":
    main()

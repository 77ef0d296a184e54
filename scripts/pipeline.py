"""Reference pipeline: fixture images, ONNX export variants of SSRNet, and golden tensors with provenance.

Subcommands (OUT is a root directory; the repo root regenerates the committed fixtures):

    images --out OUT                       OUT/fixtures/images/ from scikit-image's bundled data
    export --out OUT [weights]             OUT/models/<every variant>
    golden --out OUT [weights]             OUT/fixtures/golden/ + OUT/fixtures/golden_pb/ (needs OUT/models/)
    all    --out OUT [weights]             export, then golden
    report --out OUT [weights]             per variant: size, nodes, op histogram, max |PyTorch - ORT|

    weights: --checkpoint PATH (a .pth: bare state_dict or a dict holding `state_dict`) | --demo-seed N
             (default: --demo-seed 0). Golden cases read the repo's fixtures/images/ (or --images DIR).

Regenerate everything committed (demo weights, seed 0), from the repo root:

    .venv/bin/python scripts/pipeline.py images --out . && .venv/bin/python scripts/pipeline.py all --out .

The exports are `ssrnet_parity.pytorch.export`'s (the package must be installed in this interpreter, as
`tools/test` installs it), made the committed models' form: SSRNet's metadata, the dynamo exporter's debug
info stripped, the names this file's `VARIANTS` gives.

A checkpoint is never written into the repository: with --checkpoint, --out must not be the repo root.
The golden format is described in README.md ("Golden format") and in `write_golden` (this file).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ssrnet  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
LEGACY_OPSET = 11
INPUT_NAME = "input"
OUTPUT_NAME = "age"
BATCH_DIM = "N"
GOLDEN_FORMAT = "ssrnet-parity-golden"
GOLDEN_VERSION = 1
GOLDEN_MODEL = "ssrnet_legacy_dynamic.onnx"
TOLERANCE = {OUTPUT_NAME: {"atol": 1e-4, "rtol": 0.0}}
RANDOM_SEEDS = (0, 1, 2)
BATCH8_CASE = "batch8_images"
BATCH8_STEMS = (
    "astronaut_face",
    "astronaut_face_q95_420",
    "chelsea",
    "coffee",
    "camera",
    "lfw_face_000",
    "lfw_face_001",
    "odd_37x53",
)

# (file name, exporter, dynamic batch) of the single-file variants; `_sim` versions derive from these.
VARIANTS = (
    ("ssrnet_legacy_static.onnx", "legacy", False),
    ("ssrnet_legacy_dynamic.onnx", "legacy", True),
    ("ssrnet_dynamo_static.onnx", "dynamo", False),
    ("ssrnet_dynamo_dynamic.onnx", "dynamo", True),
)
EXTERNAL_VARIANT = "ssrnet_dynamo_dynamic_external.onnx"


def die(msg: str) -> None:
    raise SystemExit(f"error: {msg}")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def versions() -> dict[str, str]:
    import cv2
    import onnx
    import onnxruntime
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "opencv": cv2.__version__,
        "numpy": np.__version__,
    }


# ================================================================================================ images


def _bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[..., ::-1])


def _shrink(img: np.ndarray, max_side: int = 256) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    s = max_side / max(h, w)
    if s >= 1:
        return img
    return cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def write_images(out_dir: Path) -> list[str]:
    """Writes the fixture images; returns their file names. Unique stems, a few MB in total."""
    import cv2
    import skimage.data
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[str] = []

    def imwrite(name: str, img: np.ndarray, params: tuple[int, ...] = ()) -> None:
        if not cv2.imwrite(str(out_dir / name), img, list(params)):
            die(f"image {out_dir / name}: cv2.imwrite failed")
        written.append(name)

    def jpeg(name: str, img: np.ndarray, quality: int, sampling: str | None, progressive: bool = False) -> None:
        params = [cv2.IMWRITE_JPEG_QUALITY, quality]
        if sampling is not None:
            params += [
                cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
                {
                    "420": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420,
                    "422": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422,
                    "444": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
                }[sampling],
            ]
        if progressive:
            params += [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]
        imwrite(name, img, tuple(params))

    # The REFERENCE.md photo: astronaut rows 0:220, cols 140:340.
    face = _bgr(skimage.data.astronaut()[0:220, 140:340])
    imwrite("astronaut_face.png", face)
    jpeg("astronaut_face_q95_420.jpg", face, 95, "420")
    jpeg("astronaut_face_q90_422.jpg", face, 90, "422")
    jpeg("astronaut_face_q90_444.jpg", face, 90, "444")
    jpeg("astronaut_face_q90_progressive.jpg", face, 90, "420", progressive=True)
    imwrite("astronaut_face_bmp.bmp", face)

    chelsea = _shrink(_bgr(skimage.data.chelsea()))
    imwrite("chelsea.png", chelsea)
    jpeg("chelsea_q85_420.jpg", chelsea, 85, "420")
    jpeg("chelsea_q85_422.jpg", chelsea, 85, "422")
    jpeg("chelsea_q85_444.jpg", chelsea, 85, "444")
    jpeg("chelsea_q85_progressive.jpg", chelsea, 85, "420", progressive=True)

    coffee = _shrink(_bgr(skimage.data.coffee()))
    imwrite("coffee.png", coffee)
    jpeg("coffee_q75_420.jpg", coffee, 75, "420")
    jpeg("coffee_q75_progressive.jpg", coffee, 75, "444", progressive=True)

    # camera is grayscale: the grayscale PNG and JPEG edge cases.
    camera = _shrink(skimage.data.camera())
    imwrite("camera.png", camera)
    jpeg("camera_gray_q90.jpg", camera, 90, None)

    # lfw_subset: 25x25 grayscale faces in [0, 1] (an upscale to 64x64).
    lfw = skimage.data.lfw_subset()
    for i in range(4):
        img = np.clip(np.rint(lfw[i] * 255.0), 0, 255).astype(np.uint8)
        imwrite(f"lfw_face_{i:03d}.png", img)
    img = np.clip(np.rint(lfw[4] * 255.0), 0, 255).astype(np.uint8)
    jpeg("lfw_face_004_q90.jpg", img, 90, None)

    # Colour depth / colour type edge cases.
    alpha = np.tile(np.linspace(0, 255, face.shape[1]).astype(np.uint8), (face.shape[0], 1))
    imwrite("astronaut_face_rgba.png", np.dstack([face, alpha]))
    Image.fromarray(face[..., ::-1]).quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out_dir / "astronaut_face_palette.png"
    )
    written.append("astronaut_face_palette.png")
    rng = np.random.default_rng(16)
    face16 = face.astype(np.uint16) * 257 + rng.integers(-128, 128, face.shape).clip(-128, 127).astype(np.int32)
    imwrite("astronaut_face_16bit.png", np.clip(face16, 0, 65535).astype(np.uint16))

    # EXIF orientation 3, 6, 8 on a non-square crop (Pillow writes the tag; cv2.imread applies it).
    small = cv2.resize(face, (48, 72), interpolation=cv2.INTER_AREA)  # 72 rows x 48 cols
    for orientation in (3, 6, 8):
        name = f"exif_orientation_{orientation}.jpg"
        exif = Image.Exif()
        exif[0x0112] = orientation
        Image.fromarray(small[..., ::-1]).save(out_dir / name, quality=95, subsampling=0, exif=exif.tobytes())
        written.append(name)

    # Sizes.
    imwrite("tiny_1x1.png", face[100:101, 100:101])
    imwrite("row_1x37.png", face[110:111, 80:117])
    imwrite("column_37x1.png", face[80:117, 110:111])
    imwrite("odd_37x53.png", cv2.resize(face, (53, 37), interpolation=cv2.INTER_AREA))
    imwrite("exact2x_128x128.png", cv2.resize(face, (128, 128), interpolation=cv2.INTER_AREA))
    imwrite("upscale_25x25.png", cv2.resize(face, (25, 25), interpolation=cv2.INTER_AREA))
    imwrite("identity_64x64.png", cv2.resize(face, (64, 64), interpolation=cv2.INTER_AREA))

    stems = [Path(n).stem for n in written]
    dup = [s for s, c in Counter(stems).items() if c > 1]
    if dup:
        die(f"images {out_dir}: duplicate stems {dup}")
    check_exif(out_dir, small)
    return written


def check_exif(out_dir: Path, upright: np.ndarray) -> None:
    """cv2.imread must apply the EXIF orientation (the files store `upright` and a tag)."""
    import cv2

    expect = {
        3: upright[::-1, ::-1],
        6: upright.transpose(1, 0, 2)[:, ::-1],  # 90 clockwise to display
        8: upright.transpose(1, 0, 2)[::-1, :],  # 90 anticlockwise
    }
    for orientation, want in expect.items():
        path = out_dir / f"exif_orientation_{orientation}.jpg"
        got = cv2.imread(str(path))
        if got is None or got.shape != want.shape:
            die(f"image {path}: cv2.imread gave shape {None if got is None else got.shape}, want {want.shape}")
        diff = np.abs(got.astype(int) - want.astype(int)).mean()
        if diff > 8:
            die(f"image {path}: cv2.imread did not apply EXIF orientation {orientation} (mean diff {diff:.1f})")


def image_files(images_dir: Path) -> list[Path]:
    exts = {".png", ".jpg", ".jpeg", ".bmp"}
    files = sorted(p for p in images_dir.iterdir() if p.suffix.lower() in exts)
    if not files:
        die(f"images {images_dir}: no fixture images (run `pipeline.py images` first)")
    return files


# ================================================================================================ export


def metadata(prov: dict[str, str], exporter: str, opset: int, dynamic: bool, extra: dict[str, str] | None = None):
    import torch

    meta = {
        "model": "SSRNet (stage_num [3,3,3], V 101), input BGR normalised [N,3,64,64] -> age [N]",
        "weights": prov["weights"],
        "weights_source": prov["weights_source"],
        "exporter": exporter,
        "opset": str(opset),
        "batch": "dynamic" if dynamic else "static",
        "torch_version": torch.__version__,
        "producer": "scripts/pipeline.py",
    }
    if "weights_note" in prov:
        meta["weights_note"] = prov["weights_note"]
    meta.update(extra or {})
    return meta


def set_metadata(model, meta: dict[str, str]) -> None:
    del model.metadata_props[:]
    for key in sorted(meta):
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = meta[key]


def main_opset(model) -> int:
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


def check_io(model, path: Path, dynamic: bool, checker: bool = True) -> None:
    """onnx.checker, then input `input` [N,3,64,64] and output `age` [N], N = 1 static or symbolic dynamic."""
    import onnx

    if checker:
        try:
            onnx.checker.check_model(model, full_check=False)
        except onnx.checker.ValidationError as exc:
            die(f"model {path}: onnx.checker: {str(exc).splitlines()[0]}")
    ins = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    outs = list(model.graph.output)
    if [i.name for i in ins] != [INPUT_NAME] or [o.name for o in outs] != [OUTPUT_NAME]:
        die(f"model {path}: io names {[i.name for i in ins]} -> {[o.name for o in outs]}")

    def dims(vi):
        return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in vi.type.tensor_type.shape.dim]

    di, do = dims(ins[0]), dims(outs[0])
    batch = di[0]
    ok = di[1:] == [3, 64, 64] and len(do) == 1
    ok = ok and ((not dynamic and batch == 1 and do[0] == 1) or (dynamic and isinstance(batch, str) and do[0] == batch))
    if not ok:
        die(f"model {path}: shapes input {di} output {do} (dynamic={dynamic})")


def strip_debug_info(model) -> None:
    """Drops the dynamo exporter's per-node metadata (`pkg.torch.onnx.stack_trace` etc. hold absolute source
    paths and line numbers) and doc strings, so the bytes depend only on the graph and the weights."""

    def graphs(g):
        yield g
        for node in g.node:
            for attr in node.attribute:
                if attr.g.node:
                    yield from graphs(attr.g)
                for sub in attr.graphs:
                    yield from graphs(sub)

    for g in graphs(model.graph):
        g.ClearField("doc_string")
        for node in g.node:
            node.ClearField("doc_string")
            del node.metadata_props[:]
        for vi in list(g.input) + list(g.output) + list(g.value_info):
            vi.ClearField("doc_string")
            del vi.metadata_props[:]
        for t in g.initializer:
            del t.metadata_props[:]
        del g.metadata_props[:]
    for fn in model.functions:
        for node in fn.node:
            node.ClearField("doc_string")
            del node.metadata_props[:]
    model.ClearField("doc_string")


def rename_batch_dim(model) -> None:
    """The dynamo exporter names the batch dim after the torch.export symbol (`s0`/`N`); use `N` everywhere."""
    names = set()
    for vi in list(model.graph.input) + list(model.graph.output):
        d = vi.type.tensor_type.shape.dim[0]
        if d.HasField("dim_param"):
            names.add(d.dim_param)
    for vi in list(model.graph.input) + list(model.graph.output) + list(model.graph.value_info):
        for d in vi.type.tensor_type.shape.dim:
            if d.HasField("dim_param") and d.dim_param in names:
                d.dim_param = BATCH_DIM


def export_all(out_models: Path, model, prov: dict[str, str]) -> dict[str, dict]:
    """Writes every variant into out_models (staged in a sibling temp dir first, so a failure leaves the
    previous files in place, nothing half-written); returns {file: info}."""
    out_models.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".models-stage-", dir=out_models.parent))
    try:
        written = _export_into(stage, model, prov)
        out_models.mkdir(exist_ok=True)
        for f in sorted(stage.iterdir()):
            os.replace(f, out_models / f.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return written


def _export_into(out_models: Path, model, prov: dict[str, str]) -> dict[str, dict]:
    """Every variant through `ssrnet_parity.pytorch.export` (its simplified and external-data variants
    included), then made the pipeline's, as the committed models are: the dynamo exporter's debug info
    stripped and its batch axis named `N`, SSRNet's metadata in place of `export`'s, the io contract
    checked, and the file named as `VARIANTS` says."""
    import onnxsim

    report: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="ssrnet-export-") as tmp:
        for name, exporter, dynamic in VARIANTS:
            made = _export_variant(model, Path(tmp) / name, exporter, dynamic)
            described = "torch.onnx.export(dynamo=False) (TorchScript exporter)" if exporter == "legacy" else "torch.onnx.export(dynamo=True)"
            _finish(made[exporter], prov, described, dynamic, out_models / name)
            report[name] = {"exporter": exporter, "dynamic": dynamic}
            sim_name = name.replace(".onnx", "_sim.onnx")
            if f"{exporter}_sim" in made.failures:
                why = made.failures[f"{exporter}_sim"]
                print(f"note: {sim_name}: onnxsim could not simplify {name}: {why}", file=sys.stderr)
                report[name]["onnxsim"] = why
            else:
                extra = {"simplifier": f"onnxsim {onnxsim.__version__}", "simplified_from": name}
                _finish(made[f"{exporter}_sim"], prov, described, dynamic, out_models / sim_name, extra)
                report[sim_name] = {"exporter": exporter, "dynamic": dynamic, "simplified_from": name}
            if name.replace(".onnx", "_external.onnx") == EXTERNAL_VARIANT:
                _finish_external(made[f"{exporter}_external"], prov, out_models / EXTERNAL_VARIANT)
                report[EXTERNAL_VARIANT] = {"exporter": exporter, "dynamic": True, "external_data": EXTERNAL_VARIANT + ".data"}
    return report


def _export_variant(model, out: Path, exporter: str, dynamic: bool):
    """One exporter's export of SSRNet into `out` (with its onnxsim variant, and its external-data
    variant for the one `EXTERNAL_VARIANT` names)."""
    import torch
    from ssrnet_parity.pytorch import export

    made = export(
        model,
        (torch.zeros(1, 3, 64, 64),),
        out,
        exporters=[exporter],
        opset=LEGACY_OPSET if exporter == "legacy" else None,
        # The dynamo exporter's batch axis bounded as the committed exports were made (torch.export.Dim).
        dynamic={INPUT_NAME: {0: torch.export.Dim(BATCH_DIM, min=1, max=1024)}, OUTPUT_NAME: {0: BATCH_DIM}} if dynamic else None,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        simplify=True,
        external_data=out.name.replace(".onnx", "_external.onnx") == EXTERNAL_VARIANT,
    )
    if exporter in made.failures:
        die(f"model {out.name}: the {exporter} exporter failed: {made.failures[exporter]}")
    return made


def _pipeline_form(written: Path, prov: dict[str, str], described: str, dynamic: bool, extra: dict[str, str] | None = None):
    """The export at `written` (its weights loaded too) in the committed models' form: the dynamo
    exporter's debug info stripped and its batch axis named `N`, SSRNet's metadata in place of `export`'s."""
    import onnx

    proto = onnx.load(str(written))
    if "dynamo" in described:
        strip_debug_info(proto)
        rename_batch_dim(proto)
    set_metadata(proto, metadata(prov, described, main_opset(proto), dynamic, extra))
    return proto


def _finish(written: Path, prov: dict[str, str], described: str, dynamic: bool, path: Path, extra: dict[str, str] | None = None) -> None:
    """`written` made the pipeline's model at `path`."""
    proto = _pipeline_form(written, prov, described, dynamic, extra)
    check_io(proto, path, dynamic)
    path.write_bytes(proto.SerializeToString())


def _finish_external(written: Path, prov: dict[str, str], path: Path) -> None:
    """`written` (weights in `written.data`) made the pipeline's external-data model at `path`, its
    weights in `path.data`."""
    import onnx

    data = path.with_name(path.name + ".data")
    for p in (path, data):
        p.unlink(missing_ok=True)
    proto = _pipeline_form(written, prov, "torch.onnx.export(dynamo=True), external data", True)
    onnx.save_model(proto, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location=data.name)
    try:
        onnx.checker.check_model(str(path))
    except onnx.checker.ValidationError as exc:
        die(f"model {path}: onnx.checker: {str(exc).splitlines()[0]}")
    check_io(onnx.load(str(path), load_external_data=False), path, True, checker=False)


# ================================================================================================ golden


def preprocess_image(path: Path) -> tuple[np.ndarray, np.ndarray]:
    x, resized = ssrnet.preprocess_file(path)
    return x, resized[None]


def random_case(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((1, 3, 64, 64)).astype(np.float32)


def build_cases(images_dir: Path, golden_dir: Path) -> dict[str, dict]:
    """{case: {"arrays": {name: array}, "meta": {...}}} in sorted case order."""
    cases: dict[str, dict] = {}
    by_stem: dict[str, Path] = {}
    for path in image_files(images_dir):
        if path.stem in by_stem:
            die(f"images {images_dir}: stem {path.stem} used by {by_stem[path.stem].name} and {path.name}")
        by_stem[path.stem] = path
        x, resized = preprocess_image(path)
        cases[path.stem] = {
            "arrays": {"input": x, "preprocess.resized_bgr_u8": resized},
            "meta": {"image": os.path.relpath(path, golden_dir), "batch": 1},
        }
    for seed in RANDOM_SEEDS:
        cases[f"random_normal_s{seed}"] = {
            "arrays": {"input": random_case(seed)},
            "meta": {"source": f"numpy.random.default_rng({seed}).standard_normal((1, 3, 64, 64)).astype(float32)", "batch": 1},
        }
    missing = [s for s in BATCH8_STEMS if s not in cases]
    if missing:
        die(f"images {images_dir}: the {BATCH8_CASE} case needs {missing}")
    cases[BATCH8_CASE] = {
        "arrays": {
            "input": np.concatenate([cases[s]["arrays"]["input"] for s in BATCH8_STEMS]),
            "preprocess.resized_bgr_u8": np.concatenate([cases[s]["arrays"]["preprocess.resized_bgr_u8"] for s in BATCH8_STEMS]),
        },
        "meta": {
            "source": "the inputs of 8 image cases stacked along the batch axis",
            "images": [cases[s]["meta"]["image"] for s in BATCH8_STEMS],
            "cases": list(BATCH8_STEMS),
            "batch": 8,
            "dynamic_only": True,
        },
    }
    return dict(sorted(cases.items()))


def write_golden(out: Path, model, prov: dict[str, str], images_dir: Path) -> dict:
    """Writes OUT/fixtures/golden/ (npz + manifest.json) and OUT/fixtures/golden_pb/.

    Each `<case>.npz` holds `input` float32 [N,3,64,64] and `age` float32 [N] (PyTorch, eval mode, the
    reference), plus `preprocess.resized_bgr_u8` uint8 [N,64,64,3] for cases made from images.
    """
    import onnx
    import onnxruntime as ort

    golden = out / "fixtures" / "golden"
    golden_pb = out / "fixtures" / "golden_pb"
    model_path = out / "models" / GOLDEN_MODEL
    if not model_path.is_file():
        die(f"model {model_path}: missing (run `pipeline.py export --out {out}` first)")
    proto = onnx.load(str(model_path))
    meta_props = {p.key: p.value for p in proto.metadata_props}
    if meta_props.get("weights_source") != prov["weights_source"]:
        die(f"model {model_path}: made from {meta_props.get('weights_source')!r}, not {prov['weights_source']!r}")

    cases = build_cases(images_dir, golden)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])

    golden.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".golden-stage-", dir=golden.parent))
    try:
        manifest = _write_golden_into(stage, golden, golden_pb, model_path, cases, sess, model, prov, meta_props)
        for final in (golden, golden_pb):
            if final.exists():
                shutil.rmtree(final)
            os.replace(stage / final.name, final)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return manifest


def _write_golden_into(stage, golden_final, golden_pb_final, model_path, cases, sess, model, prov, meta_props):
    from onnx import numpy_helper

    golden = stage / golden_final.name
    golden_pb = stage / golden_pb_final.name
    golden.mkdir()
    golden_pb.mkdir()

    manifest_cases = {}
    for name, case in cases.items():
        arrays = case["arrays"]
        age = ssrnet.run(model, arrays["input"])
        ort_age = sess.run([OUTPUT_NAME], {INPUT_NAME: arrays["input"]})[0]
        diff = float(np.max(np.abs(age.astype(np.float64) - ort_age.astype(np.float64))))
        arrays = {"input": arrays["input"], "age": age, **{k: v for k, v in arrays.items() if k != "input"}}
        np.savez_compressed(golden / f"{name}.npz", **arrays)
        manifest_cases[name] = dict(case["meta"], onnxruntime_python_max_abs_diff=diff)

    for i, (name, _) in enumerate(cases.items()):
        data = np.load(golden / f"{name}.npz")
        d = golden_pb / f"test_data_set_{i}"
        d.mkdir()
        (d / "input_0.pb").write_bytes(numpy_helper.from_array(data["input"], INPUT_NAME).SerializeToString())
        (d / "output_0.pb").write_bytes(numpy_helper.from_array(data["age"], OUTPUT_NAME).SerializeToString())
    (golden_pb / "cases.json").write_text(
        json.dumps({str(i): name for i, name in enumerate(cases)}, indent=2) + "\n"
    )

    manifest = {
        "format": GOLDEN_FORMAT,
        "version": GOLDEN_VERSION,
        "model": {
            "file": os.path.relpath(model_path, golden_final),
            "sha256": sha256_bytes(model_path.read_bytes()),
        },
        "inputs": {INPUT_NAME: {"dtype": "float32", "shape": [BATCH_DIM, 3, 64, 64]}},
        "outputs": {OUTPUT_NAME: {"dtype": "float32", "shape": [BATCH_DIM]}},
        "tolerance": TOLERANCE,
        "preprocess": {
            "decode": "cv2.imread(path) (IMREAD_COLOR: 3-channel BGR uint8, EXIF orientation applied)",
            "resize": {"width": 64, "height": 64, "interpolation": "cv2.INTER_LINEAR"},
            "scale": "float32(x) / 255",
            "channel_order": "BGR",
            "mean": list(ssrnet.MEAN_BGR),
            "std": list(ssrnet.STD_BGR),
            "normalise": "(x - mean[c]) / std[c] in float32, c in stored (B, G, R) order",
            "layout": "HWC -> CHW, batch axis first",
        },
        "provenance": dict(
            versions(),
            exporter=meta_props.get("exporter", ""),
            opset=int(meta_props.get("opset", "0")),
            weights=prov["weights"],
            weights_source=prov["weights_source"],
            reference="PyTorch eval mode, CPU, 1 thread (scripts/ssrnet.py)",
            generator="scripts/pipeline.py golden",
        ),
        "cases": manifest_cases,
    }
    if "weights_note" in prov:
        manifest["provenance"]["weights_note"] = prov["weights_note"]
    (golden / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


# ================================================================================================ report


def report(out: Path, model) -> str:
    """A markdown table per variant: size, node count, op histogram, max |PyTorch - onnxruntime-python| over
    the golden cases (batch 1 for static models, every case incl. batch 8 for dynamic ones)."""
    import onnx
    import onnxruntime as ort

    golden = out / "fixtures" / "golden"
    manifest = json.loads((golden / "manifest.json").read_text())
    cases = {c: dict(np.load(golden / f"{c}.npz")) for c in manifest["cases"]}
    rows = ["| variant | bytes | nodes | max abs diff | ops |", "|---|---|---|---|---|"]
    for path in sorted((out / "models").glob("*.onnx")):
        proto = onnx.load(str(path), load_external_data=False)
        size = path.stat().st_size
        data = path.with_name(path.name + ".data")
        if data.exists():
            size = f"{size} + {data.stat().st_size} (.data)"
        ops = Counter(n.op_type for n in proto.graph.node)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        dynamic = "static" not in path.name
        worst = 0.0
        for case in cases.values():
            if not dynamic and case["input"].shape[0] != 1:
                continue
            got = sess.run([OUTPUT_NAME], {INPUT_NAME: case["input"]})[0]
            worst = max(worst, float(np.max(np.abs(got.astype(np.float64) - ssrnet.run(model, case["input"])))))
        hist = ", ".join(f"{op} {n}" for op, n in sorted(ops.items(), key=lambda kv: (-kv[1], kv[0])))
        rows.append(f"| {path.name} | {size} | {len(proto.graph.node)} | {worst:.2e} | {hist} |")
    return "\n".join(rows)


# ================================================================================================ main


def resolve_out(args) -> Path:
    """OUT, resolved. With --checkpoint it must lie outside the repository or in a git-ignored part of it
    (e.g. target/), so nothing made from a checkpoint can be committed by accident."""
    import subprocess

    out = Path(args.out).resolve()
    if getattr(args, "checkpoint", None) is None or args.command == "report":
        return out
    if out == REPO or REPO in out.parents:
        ignored = subprocess.run(
            ["git", "-C", str(REPO), "check-ignore", "-q", "--no-index", str(out / "models")],
            capture_output=True,
        ).returncode == 0
        if out == REPO or not ignored:
            die(f"--out {args.out}: refusing to write models or goldens made from a checkpoint into the repository")
    return out


def main(argv: list[str] | None = None) -> int:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 2)[2])
    sub = ap.add_subparsers(dest="command", required=True)
    p_img = sub.add_parser("images", help="write OUT/fixtures/images/ from scikit-image's bundled data")
    p_img.add_argument("--out", required=True, help="root directory: writes OUT/fixtures/images")
    for cmd, help_ in (
        ("export", "write OUT/models/<every variant>"),
        ("golden", "write OUT/fixtures/golden/ and OUT/fixtures/golden_pb/"),
        ("all", "export, then golden"),
        ("report", "print per variant: size, node count, op histogram, max |PyTorch - onnxruntime-python|"),
    ):
        p = sub.add_parser(cmd, help=help_)
        p.add_argument("--out", required=True, help="root directory: writes/reads OUT/models and OUT/fixtures")
        w = p.add_mutually_exclusive_group()
        w.add_argument("--checkpoint", type=Path, help="a .pth: bare state_dict or a dict holding `state_dict`")
        w.add_argument("--demo-seed", type=int, default=0, help="deterministic demo weights (default 0)")
        if cmd in ("golden", "all"):
            p.add_argument(
                "--images",
                type=Path,
                default=REPO / "fixtures" / "images",
                help="fixture images to make cases of (default: the repo's fixtures/images)",
            )
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    torch.manual_seed(0)
    out = resolve_out(args)
    if args.command == "images":
        names = write_images(out / "fixtures" / "images")
        print(f"wrote {len(names)} images to {out / 'fixtures' / 'images'}")
        return 0

    model, prov = ssrnet.load_weights(args.checkpoint, args.demo_seed)
    if args.command == "report":
        print(report(out, model))
        return 0
    if args.command in ("export", "all"):
        written = export_all(out / "models", model, prov)
        print(f"wrote {len(written)} models to {out / 'models'}: {', '.join(written)}")
    if args.command in ("golden", "all"):
        images = args.images.resolve()
        if not images.is_dir():
            die(f"images {images}: not a directory")
        manifest = write_golden(out, model, prov, images)
        worst = max(c["onnxruntime_python_max_abs_diff"] for c in manifest["cases"].values())
        print(
            f"wrote {len(manifest['cases'])} golden cases to {out / 'fixtures' / 'golden'} "
            f"(max |pytorch - onnxruntime-python| {worst:.3g})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

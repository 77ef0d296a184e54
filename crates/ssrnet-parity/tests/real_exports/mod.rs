//! Models as users bring them, beyond SSRNet: real PyTorch exports (a small vision transformer by
//! both exporters, a bidirectional LSTM), made here with the venv's torch, and the models the
//! `onnx` package ships (its PyTorch-converted opset-6 backend tests and its "light" model-zoo
//! exports). Expected values come from onnxruntime-python, from `onnx`'s own shape inference, or
//! from the models themselves; never from the CLI under test.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{
    assert_code, assert_error, assert_error_after_report, python, python_run, repo, run, run_json,
    run_with_env, tempdir,
};

/// The reference interpreter with torch, onnx and numpy (panics naming what is missing).
fn torch_python() -> PathBuf {
    parity_testkit::python(&["torch", "onnx", "numpy"])
}

/// A two-block vision transformer (patch Conv, class token, attention with a qkv split, GELU MLP,
/// LayerNorm), exported by both exporters at batch 1 with input `pixels` and the exporters' own
/// output names: `x[:, 1:]` becomes a Slice ending at INT64_MAX, as in ViT and Swin exports.
const TINY_VIT: &str = r#"
import sys, warnings, torch
from torch import nn
warnings.filterwarnings("ignore")
torch.manual_seed(0)
class Attention(nn.Module):
    def __init__(s, d, heads):
        super().__init__(); s.heads = heads; s.qkv = nn.Linear(d, 3 * d); s.proj = nn.Linear(d, d)
    def forward(s, x):
        b, n, c = x.shape
        qkv = s.qkv(x).reshape(b, n, 3, s.heads, c // s.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = ((q @ k.transpose(-2, -1)) * (c // s.heads) ** -0.5).softmax(-1)
        return s.proj((a @ v).transpose(1, 2).reshape(b, n, c))
class Block(nn.Module):
    def __init__(s, d):
        super().__init__()
        s.norm1, s.attn, s.norm2 = nn.LayerNorm(d), Attention(d, 2), nn.LayerNorm(d)
        s.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
    def forward(s, x):
        x = x + s.attn(s.norm1(x))
        return x + s.mlp(s.norm2(x))
class TinyViT(nn.Module):
    def __init__(s, d=16):
        super().__init__()
        s.patch = nn.Conv2d(3, d, 4, 4); s.cls = nn.Parameter(torch.randn(1, 1, d))
        s.blocks = nn.Sequential(Block(d), Block(d)); s.norm = nn.LayerNorm(d); s.head = nn.Linear(d, 5)
    def forward(s, x):
        x = s.patch(x).flatten(2).transpose(1, 2)
        x = s.blocks(torch.cat([s.cls.expand(x.shape[0], -1, -1), x], 1))
        x = s.norm(x)
        return s.head(x[:, 0]), x[:, 1:].mean(1).tanh()
m, x, out = TinyViT().eval(), torch.randn(1, 3, 16, 16), sys.argv[1]
torch.onnx.export(m, (x,), f"{out}/vit_legacy.onnx", dynamo=False, opset_version=17, input_names=["pixels"])
torch.onnx.export(m, (x,), f"{out}/vit_dynamo.onnx", dynamo=True, input_names=["pixels"])
"#;

/// The two exports of [`TINY_VIT`] in `dir`: legacy, dynamo.
fn tiny_vit(py: &Path, dir: &Path) -> [PathBuf; 2] {
    python_run(py, TINY_VIT, &[dir]);
    [dir.join("vit_legacy.onnx"), dir.join("vit_dynamo.onnx")]
}

/// Output names of a model, as `inspect` reports them.
fn output_names(model: &str) -> Vec<String> {
    let (r, v) = run_json(&["inspect", model, "--format", "json"]);
    assert_code(&r, 0);
    v["outputs"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().into()).collect()
}

#[test]
fn localize_names_no_constant_on_healthy_transformer_exports() {
    let py = torch_python();
    let dir = tempdir();
    for model in tiny_vit(&py, dir.path()) {
        let m = model.to_str().unwrap();
        // check passes wherever the runtime has the ops (candle lacks LayerNormalization).
        let golden = model.with_extension("golden");
        let g = golden.to_str().unwrap();
        assert_code(&run(&["record", "--model", m, "--random", "2", "--out", g]), 0);
        let (r, v) = run_json(&["check", "--model", m, "--golden", g, "--format", "json"]);
        assert_code(&r, 0);
        assert_eq!(v["verdict"], "pass", "{r:?}");
        // RTen against onnxruntime: no divergence, whatever RTen makes of INT64_MAX.
        let (r, v) = run_json(&["localize", "--model", m, "--backend", "rten", "--format", "json"]);
        assert_code(&r, 0);
        assert_eq!(v["verdict"], "none", "{m}: {:#}", v["culprit"]);
        let nodes = v["runs"][0]["nodes"].as_array().unwrap();
        for row in nodes.iter().filter(|row| row["op"] == "Constant") {
            assert!(row["isolated"].is_null(), "a constant is never isolated: {row:#}");
        }
        // Where a node holds INT64_MAX (the legacy export's slice end), the value is not
        // comparable on RTen, with the reason.
        let not_comparable: Vec<&Value> =
            nodes.iter().filter(|row| row["not_comparable"].is_string()).collect();
        if m.ends_with("vit_legacy.onnx") {
            assert!(!not_comparable.is_empty(), "the legacy export's INT64_MAX constant");
        }
        for row in not_comparable {
            let why = row["not_comparable"].as_str().unwrap();
            assert!(why.contains("int32") && why.contains("9223372036854775807"), "{why}");
            assert!(row["cumulative"].is_null() && row["isolated"].is_null(), "{row:#}");
        }
        // The default backends: none either, candle (no LayerNormalization) skipped.
        let (r, v) = run_json(&["localize", "--model", m, "--format", "json"]);
        assert_code(&r, 0);
        assert_eq!(v["verdict"], "none", "{r:?}");
        let verdicts: Vec<(&str, &str)> = v["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|run| (run["backend"].as_str().unwrap(), run["verdict"].as_str().unwrap()))
            .collect();
        assert_eq!(verdicts, [("tract", "none"), ("candle", "skipped"), ("rten", "none")]);
    }
}

#[test]
fn a_default_run_skips_a_backend_whose_runtime_refuses_the_model() {
    let py = torch_python();
    let dir = tempdir();
    let [legacy, _] = tiny_vit(&py, dir.path());
    let m = legacy.to_str().unwrap();
    // The default backends: candle (no LayerNormalization) is skipped, the rest decide.
    let r = run(&["compare", "--model", m, "--random", "2"]);
    assert_code(&r, 0);
    assert!(
        r.stdout.contains("candle: skipped: ") && r.stdout.contains("LayerNormalization"),
        "{r:?}"
    );
    assert!(r.stdout.contains("SKIPPED"), "{r:?}");
    // Errors and skips stand under the table, not in it.
    let widest = r.stdout.lines().filter(|l| l.starts_with('│')).map(|l| l.chars().count()).max();
    assert!(widest.unwrap() < 140, "a narrow table: {r:?}");
    let (r, v) = run_json(&["compare", "--model", m, "--random", "2", "--format", "json"]);
    assert_code(&r, 0);
    let candle = v["backends"].as_array().unwrap().iter().find(|b| b["name"] == "candle").unwrap();
    assert_eq!(candle["verdict"], "skipped");
    assert!(candle["skipped"].as_str().unwrap().contains("LayerNormalization"), "{candle:#}");
    // What it lacks, as inspect lists it, without a second call.
    assert_eq!(candle["unsupported_ops"], serde_json::json!(["LayerNormalization"]), "{candle:#}");
    let tract = v["backends"].as_array().unwrap().iter().find(|b| b["name"] == "tract").unwrap();
    assert!(tract.get("unsupported_ops").is_none(), "a backend that ran lists none: {tract:#}");
    // A backend the user names is held to it.
    assert_error_after_report(
        &run(&["compare", "--model", m, "--random", "2", "--backend", "tract,candle"]),
        &["candle", "LayerNormalization"],
    );
    // A bidirectional LSTM: candle-onnx refuses it only when it evaluates the node.
    let lstm = dir.path().join("lstm.onnx");
    python_run(&py, BIDIRECTIONAL_LSTM, &[&lstm]);
    let l = lstm.to_str().unwrap();
    let (r, v) = run_json(&["compare", "--model", l, "--random", "1", "--format", "json"]);
    assert_code(&r, 0);
    let candle = v["backends"].as_array().unwrap().iter().find(|b| b["name"] == "candle").unwrap();
    assert_eq!(candle["verdict"], "skipped", "{candle:#}");
    // No backend can run a model of an unknown op: an error naming the refusals.
    let unknown = dir.path().join("unknown.onnx");
    python_run(&py, UNKNOWN_OP, &[&unknown]);
    let (u, g) = (unknown.to_str().unwrap(), dir.path().join("golden"));
    let r = run(&["check", "--model", u, "--golden", g.to_str().unwrap()]);
    assert_error_after_report(&r, &["no backend could run the model", "Frobnicate"]);
    assert!(r.stdout.matches("SKIPPED").count() == 4, "{r:?}");
    let json = ["check", "--model", u, "--golden", g.to_str().unwrap(), "--format", "json"];
    let (_, v) = run_json(&json);
    // onnxruntime refuses the file's IR version before it meets the op.
    for side in v["backends"].as_array().unwrap().iter().filter(|b| b["name"] != "ort") {
        assert_eq!(side["unsupported_ops"], serde_json::json!(["Frobnicate"]), "{side:#}");
    }
}

/// `torch.nn.LSTM(bidirectional=True)` by the legacy exporter: an ONNX LSTM with direction
/// `bidirectional`.
const BIDIRECTIONAL_LSTM: &str = r#"
import sys, warnings, torch
warnings.filterwarnings("ignore")
torch.manual_seed(0)
class M(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.lstm = torch.nn.LSTM(4, 8, bidirectional=True, batch_first=True)
    def forward(s, x):
        return s.lstm(x)[0]
torch.onnx.export(M().eval(), (torch.randn(1, 5, 4),), sys.argv[1], dynamo=False, opset_version=17, input_names=["x"], output_names=["y"])
"#;

/// One `Frobnicate` node, an op no runtime has, and beside it (in `golden/`) a one-case golden
/// set for it.
const UNKNOWN_OP: &str = r#"
import os, sys, numpy as np, onnx
from onnx import helper, TensorProto
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
g = helper.make_graph([helper.make_node("Frobnicate", ["x"], ["y"])], "unknown", [x], [y])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), sys.argv[1])
golden = os.path.join(os.path.dirname(sys.argv[1]), "golden")
os.mkdir(golden)
np.savez(os.path.join(golden, "case.npz"), x=np.ones((1, 4), np.float32), y=np.ones((1, 4), np.float32))
"#;

#[test]
fn candle_errors_carry_no_backtrace_whatever_the_environment_says() {
    let py = torch_python();
    let dir = tempdir();
    let lstm = dir.path().join("lstm.onnx");
    python_run(&py, BIDIRECTIONAL_LSTM, &[&lstm]);
    let l = lstm.to_str().unwrap();
    for (backtrace, lib_backtrace) in
        [(Some("1"), None), (Some("full"), Some("1")), (None, Some("1"))]
    {
        let r = run_with_env(
            &["compare", "--model", l, "--random", "1", "--backend", "candle"],
            &[("RUST_BACKTRACE", backtrace), ("RUST_LIB_BACKTRACE", lib_backtrace)],
        );
        assert_error_after_report(&r, &["candle", "LSTM", "forward"]);
        for frame in ["Error::bt", "candle_core::error", "rayon_core", "stack backtrace"] {
            assert!(!r.stderr.contains(frame), "a backtrace frame in the error: {r:?}");
        }
        assert!(!r.stdout.contains("candle_core::error"), "{r:?}");
    }
}

#[test]
fn diff_pairs_the_outputs_of_two_exporters_by_position_or_by_map() {
    let py = torch_python();
    let dir = tempdir();
    let [legacy, dynamo] = tiny_vit(&py, dir.path());
    let (old, new) = (legacy.to_str().unwrap(), dynamo.to_str().unwrap());
    let (old_names, new_names) = (output_names(old), output_names(new));
    assert!(old_names.iter().all(|n| !new_names.contains(n)), "the exporters name them apart");
    let (r, v) = run_json(&["diff", old, new, "--random", "2", "--format", "json"]);
    assert_code(&r, 0);
    let pairing = &v["extra"]["output_pairing"];
    assert_eq!(pairing["by"], "position", "{v:#}");
    let pairs: Vec<(String, String)> = serde_json::from_value(pairing["pairs"].clone()).unwrap();
    let expected: Vec<(String, String)> =
        old_names.iter().cloned().zip(new_names.iter().cloned()).collect();
    assert_eq!(pairs, expected);
    let text = run(&["diff", old, new, "--random", "2"]);
    assert_code(&text, 0);
    assert!(text.stdout.contains("output_pairing") && text.stdout.contains("position"), "{text:?}");
    // --output-map overrides the pairing: crossed, the shapes ([1, 5] and [1, 16]) differ.
    let crossed = [
        format!("{}={}", old_names[0], new_names[1]),
        format!("{}={}", old_names[1], new_names[0]),
    ];
    let diff_mapped = |maps: &[&str]| {
        let flags = maps.iter().flat_map(|m| ["--output-map", m]);
        run(&["diff", old, new, "--random", "1"].into_iter().chain(flags).collect::<Vec<_>>())
    };
    assert_code(&diff_mapped(&[&crossed[0], &crossed[1]]), 1);
    let unknown = format!("nope={}", new_names[0]);
    assert_error(&diff_mapped(&[&unknown]), &["--output-map", "nope"]);
}

/// Per model directory of `onnx`'s PyTorch-converted backend tests, what onnxruntime-python
/// makes of it: `"pass"` (within the ONNX tests' rtol 1e-3, atol 1e-7) or its error message.
const ORT_ON_PYTORCH_CONVERTED: &str = r#"
import glob, json, os, numpy as np, onnx, onnxruntime as ort
from onnx import numpy_helper
root = os.path.join(os.path.dirname(onnx.__file__), "backend/test/data/pytorch-converted")
def load(pattern):
    out = []
    for f in sorted(glob.glob(pattern)):
        t = onnx.TensorProto(); t.ParseFromString(open(f, "rb").read()); out.append(numpy_helper.to_array(t))
    return out
options = ort.SessionOptions(); options.log_severity_level = 3
verdicts = {}
for d in sorted(glob.glob(root + "/*/")):
    try:
        s = ort.InferenceSession(d + "model.onnx", options, providers=["CPUExecutionProvider"])
        feed = {i.name: x for i, x in zip(s.get_inputs(), load(d + "test_data_set_0/input_*.pb"))}
        got, want = s.run(None, feed), load(d + "test_data_set_0/output_*.pb")
        ok = all(np.allclose(g, w, rtol=1e-3, atol=1e-7) for g, w in zip(got, want))
        verdicts[d] = "pass" if ok else "mismatch"
    except Exception as e:
        verdicts[d] = str(e)
print(json.dumps(verdicts))
"#;

#[test]
fn ort_runs_every_opset6_model_that_onnxruntime_runs_and_refuses_with_its_words() {
    let py = python();
    let verdicts: serde_json::Map<String, Value> =
        serde_json::from_str(&python_run(&py, ORT_ON_PYTORCH_CONVERTED, &[])).unwrap();
    assert!(verdicts.len() >= 80, "onnx ships its PyTorch-converted tests: {}", verdicts.len());
    let mut passed = 0;
    for (dir, verdict) in &verdicts {
        let model = format!("{dir}model.onnx");
        let args = ["check", "--model", &model, "--golden", dir, "--backend", "ort"];
        let r = run(&[&args[..], &["--atol", "1e-7", "--rtol", "1e-3"]].concat());
        match verdict.as_str().unwrap() {
            "pass" => {
                assert_code(&r, 0);
                passed += 1;
            }
            "mismatch" => assert_code(&r, 1),
            refusal => {
                // onnxruntime's own message, e.g. "Could not find an implementation for
                // AveragePool(1) node", beside the declared opset range.
                let words = refusal.rsplit(" : ").next().unwrap();
                assert_error_after_report(&r, &[&model, words.trim(), "declares opsets"]);
            }
        }
    }
    assert!(passed >= 50, "most of onnx's opset-6 tests run on onnxruntime: {passed}");
}

#[test]
fn a_model_beyond_a_backends_declared_opsets_is_left_to_its_runtime() {
    let py = python();
    let dir = tempdir();
    // The demo export relabelled opset 99: nothing in it changes, only what it claims to be.
    let relabelled = dir.path().join("opset99.onnx");
    python_run(
        &py,
        r#"
import sys, onnx
m = onnx.load(sys.argv[1])
for o in m.opset_import:
    if o.domain in ("", "ai.onnx"):
        o.version = 99
onnx.save(m, sys.argv[2])
"#,
        &[&repo().join(super::DEMO), &relabelled],
    );
    let m = relabelled.to_str().unwrap();
    let predict = |backend| {
        run(&["predict", "--model", m, "--backend", backend, "fixtures/images/astronaut_face.png"])
    };
    // onnxruntime refuses it itself (ValidateOpsetForDomain), and the error says what was declared.
    assert_error(&predict("ort"), &["ort", m, "opset", "ort declares opsets 7 to 26"]);
    // tract, candle and RTen run it, with a warning.
    for backend in ["tract", "candle", "rten"] {
        let r = predict(backend);
        assert_code(&r, 0);
        let warning =
            format!("warning: {m}: the model imports opset 99; {backend} declares opsets");
        assert!(r.stderr.contains(&warning), "{r:?}");
        assert!(r.stdout.contains("astronaut_face.png"), "{r:?}");
    }
    // inspect says which opsets each backend declares, and that 99 is not among them.
    let (r, v) = run_json(&["inspect", m, "--format", "json"]);
    assert_code(&r, 0);
    for b in v["backends"].as_array().unwrap() {
        assert_eq!(b["opset_supported"], false, "{r:?}");
        assert!(b["opsets"][1].as_i64().unwrap() < 99, "{r:?}");
        if b["backend"] == "ort" {
            // onnxruntime, asked by loading the model, refuses the opset itself.
            assert_eq!(b["supported"], false, "{r:?}");
            assert!(b["error"].as_str().unwrap().contains("opset"), "{r:?}");
        } else {
            assert_eq!(b["supported"], true, "every op is known: {r:?}");
        }
    }
}

/// 2 x the multiply-adds of every Conv, Gemm and MatMul of each model, with the shapes from
/// `onnx.shape_inference` (data propagation on, for the `ConstantOfShape` weights).
const INDEPENDENT_FLOPS: &str = r#"
import json, math, os, sys, onnx
from onnx import shape_inference
def count(path):
    g = shape_inference.infer_shapes(onnx.load(path), data_prop=True).graph
    shape = {t.name: list(t.dims) for t in g.initializer}
    for v in list(g.value_info) + list(g.input) + list(g.output):
        dims = [d.dim_value for d in v.type.tensor_type.shape.dim]
        if dims and all(d > 0 for d in dims):
            shape[v.name] = dims
    total = 0
    for n in g.node:
        attr = {a.name: a.i for a in n.attribute}
        if n.op_type == "Conv":
            total += 2 * math.prod(shape[n.output[0]]) * math.prod(shape[n.input[1]][1:])
        elif n.op_type == "Gemm":
            a, b = shape[n.input[0]], shape[n.input[1]]
            m, k = (a[1], a[0]) if attr.get("transA") else (a[0], a[1])
            total += 2 * m * k * (b[0] if attr.get("transB") else b[1])
        elif n.op_type == "MatMul":
            total += 2 * math.prod(shape[n.output[0]]) * shape[n.input[0]][-1]
    return total
root = os.path.join(os.path.dirname(onnx.__file__), "backend/test/data/light")
print(json.dumps({m: [f"{root}/light_{m}.onnx", count(f"{root}/light_{m}.onnx")] for m in sys.argv[1:]}))
"#;

#[test]
fn flops_are_counted_on_older_real_models_within_5_percent_of_an_independent_count() {
    let py = python();
    // Four families of the ONNX model zoo at opset 9, their initializers listed as graph inputs
    // and their weights made by ConstantOfShape: residual, fire-module, plain and dense CNNs.
    let script = format!(
        "import sys; sys.argv[1:] = ['resnet50', 'squeezenet', 'vgg19', 'densenet121']\n{INDEPENDENT_FLOPS}"
    );
    let counts: serde_json::Map<String, Value> =
        serde_json::from_str(&python_run(&py, &script, &[])).unwrap();
    assert_eq!(counts.len(), 4);
    for (name, entry) in &counts {
        let (model, independent) = (entry[0].as_str().unwrap(), entry[1].as_f64().unwrap());
        let args = ["bench", "--model", model, "--backend", "ort", "--batch", "1"];
        let (r, v) = run_json(
            &[&args[..], &["--threads", "1", "--seconds", "0.01", "--format", "json"]].concat(),
        );
        assert_code(&r, 0);
        let flops = v[0]["flops"].as_f64().unwrap_or_else(|| panic!("{name}: not counted: {r:?}"));
        let ratio = flops / independent;
        assert!(
            (0.95..=1.05).contains(&ratio),
            "{name}: {flops} against {independent} ({ratio:.4})"
        );
    }
}

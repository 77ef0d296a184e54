//! `--format html --output FILE`: one self-contained page per report, parsed here by html5lib
//! (the HTML5 parsing algorithm, strict: any parse error fails), which also gives the page's
//! elements and its text as a browser would build them.

use std::path::Path;

use serde_json::Value;

use super::{assert_code, assert_error, python_run, run, tempdir};

/// Parses a page strictly and prints `{"tags": [...], "scripts": [text, ...], "text": "...",
/// "links": [attribute values that would fetch something]}`.
const PARSE: &str = r#"
import json, sys, html5lib
tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(open(sys.argv[1], "rb").read())
tag = lambda e: str(e.tag).rsplit("}", 1)[-1]
links = [v for e in tree.iter() for k, v in e.attrib.items() if k in ("src", "href", "action", "srcset", "poster", "data")]
print(json.dumps({
    "tags": sorted({tag(e) for e in tree.iter() if isinstance(e.tag, str)}),
    "scripts": [e.text for e in tree.iter() if tag(e) == "script"],
    "text": "".join(tree.itertext()),
    "links": links,
}))
"#;

/// The page at `path`, parsed (panics on any HTML5 parse error).
fn parse(path: &Path) -> Value {
    let py = parity_testkit::python(&["html5lib"]);
    serde_json::from_str(&python_run(&py, PARSE, &[path])).unwrap()
}

/// A page that stands alone: it parses, fetches nothing and runs only its own script.
#[track_caller]
fn assert_self_contained(page: &Value) {
    assert_eq!(page["links"], serde_json::json!([]), "nothing fetched: {:?}", page["links"]);
    assert_eq!(page["scripts"].as_array().unwrap().len(), 1, "one script, the page's own");
    let tags = page["tags"].as_array().unwrap();
    for absent in ["img", "iframe", "link", "object", "embed"] {
        assert!(!tags.iter().any(|t| t == absent), "no <{absent}>: {tags:?}");
    }
}

#[test]
fn check_compare_merge_and_localize_write_pages_that_parse_and_say_what_the_text_says() {
    let dir = tempdir();
    let page = dir.path().join("check.html");
    let r = run(&["check", "--format", "html", "--output", page.to_str().unwrap()]);
    assert_code(&r, 0);
    assert!(r.stdout.is_empty(), "the page goes to the file, not stdout: {r:?}");
    let v = parse(&page);
    assert_self_contained(&v);
    let text = v["text"].as_str().unwrap();
    for backend in ["ort", "tract", "candle", "rten"] {
        assert!(text.contains(backend), "{backend} in the page");
    }
    assert!(
        text.contains("check: PASS") && text.contains("age") && text.contains("atol"),
        "{text}"
    );
    // The header: each backend with its runtime's version, and the golden set's provenance.
    assert!(
        text.contains("ort onnxruntime 1.31.1: pass") && text.contains("tract-onnx 0.23.9"),
        "{text}"
    );
    assert!(text.contains("provenance") && text.contains("weights_source"), "{text}");
    assert!(v["tags"].as_array().unwrap().iter().any(|t| t == "svg"), "charts");
    // A failing check: exit 1 as in text, and its worst cases listed.
    let failing = dir.path().join("fail.html");
    let r = run(&[
        "check",
        "--atol",
        "1e-9",
        "--format",
        "html",
        "--output",
        failing.to_str().unwrap(),
    ]);
    assert_code(&r, 1);
    let text = parse(&failing)["text"].as_str().unwrap().to_string();
    assert!(text.contains("check: FAIL") && text.contains("Worst cases"), "{text}");
    let model = super::repo().join("models/ssrnet_legacy_static.onnx");
    let compared = dir.path().join("compare.html");
    let m = model.to_str().unwrap();
    let r = run(&[
        "compare",
        "--model",
        m,
        "--random",
        "2",
        "--format",
        "html",
        "--output",
        compared.to_str().unwrap(),
    ]);
    assert_code(&r, 0);
    assert_self_contained(&parse(&compared));
    let shards = super::check_shards(dir.path(), 2, &[]);
    let merged = dir.path().join("merge.html");
    let mut merge = vec!["merge".to_string()];
    merge.extend(shards.iter().map(|p| p.display().to_string()));
    merge.extend([
        "--format".into(),
        "html".into(),
        "--output".into(),
        merged.display().to_string(),
    ]);
    assert_code(&run(&merge), 0);
    let text = parse(&merged)["text"].as_str().unwrap().to_string();
    assert!(text.contains("check: PASS"), "the merged run's verdict: {text}");
    let located = dir.path().join("localize.html");
    let r = run(&[
        "localize",
        "--model",
        model.to_str().unwrap(),
        "--backend",
        "tract",
        "--format",
        "html",
        "--output",
        located.to_str().unwrap(),
    ]);
    assert_code(&r, 0);
    let v = parse(&located);
    assert_self_contained(&v);
    assert!(v["text"].as_str().unwrap().contains("tract vs ort"), "the run's section");
}

#[test]
fn html_needs_a_file_and_only_report_commands_write_it() {
    let dir = tempdir();
    assert_error(&run(&["check", "--format", "html"]), &["--format html needs --output FILE"]);
    let stray = dir.path().join("x.html");
    assert_error(&run(&["check", "--output", stray.to_str().unwrap()]), &["only --format html"]);
    assert!(!stray.exists());
    let model = super::repo().join("models/ssrnet_legacy_static.onnx");
    let m = model.to_str().unwrap();
    assert_error(&run(&["inspect", m, "--format", "html"]), &["--format html is for check"]);
    // Never over an input: the model stays as it was.
    let copy = dir.path().join("model.onnx");
    std::fs::copy(&model, &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let c = copy.to_str().unwrap();
    let r = run(&["check", "--model", c, "--format", "html", "--output", c]);
    assert_code(&r, 2);
    assert_eq!(std::fs::read(&copy).unwrap(), before);
}

/// Two Relu nodes whose names and values are markup, a golden-free model for `localize`.
const HOSTILE: &str = r#"
import sys, onnx
from onnx import helper, TensorProto
names = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(2)>"]
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
y = helper.make_tensor_value_info(names[1], TensorProto.FLOAT, [1, 4])
nodes = [helper.make_node("Relu", ["x"], [names[0]], name=names[0]),
         helper.make_node("Relu", [names[0]], [names[1]], name=names[1])]
m = helper.make_model(helper.make_graph(nodes, "g", [x], [y]), opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
m.metadata_props.add(key="<b>note</b>", value="</style><script>alert(3)</script>")
onnx.save(m, sys.argv[1])
"#;

#[test]
fn markup_in_a_models_names_is_text_in_the_page() {
    let dir = tempdir();
    let model = dir.path().join("hostile.onnx");
    python_run(&super::python(), HOSTILE, &[&model]);
    let page = dir.path().join("localize.html");
    let (m, p) = (model.to_str().unwrap(), page.to_str().unwrap());
    let r =
        run(&["localize", "--model", m, "--backend", "tract", "--format", "html", "--output", p]);
    assert_code(&r, 0);
    let v = parse(&page);
    assert_self_contained(&v);
    let text = v["text"].as_str().unwrap();
    assert!(text.contains("<script>alert(1)</script>"), "the names as text: {text}");
    assert!(text.contains("\"><img src=x onerror=alert(2)>"), "{text}");
    let raw = std::fs::read_to_string(&page).unwrap();
    assert!(!raw.contains("<script>alert") && !raw.contains("<img"), "no markup from the model");
}

#[test]
fn diff_plots_new_against_old_with_the_moved_elements_named() {
    let dir = tempdir();
    let moved = super::perturbed(&super::python(), dir.path(), "moved.onnx", "0.01");
    let old = super::repo().join(super::DEMO);
    let page = dir.path().join("diff.html");
    let args = [old.to_str().unwrap(), moved.to_str().unwrap(), "--random", "12", "--atol", "1e-3"];
    let mut all = vec!["diff"];
    all.extend(args);
    all.extend(["--format", "html", "--output", page.to_str().unwrap()]);
    assert_code(&run(&all), 1);
    let v = parse(&page);
    assert_self_contained(&v);
    let text = v["text"].as_str().unwrap();
    // Every one of the 12 ages moved by 0.01, past atol 1e-3: each a red point named by its case.
    assert!(text.contains("Old against new") && text.contains("12 moved past it"), "{text}");
    let raw = std::fs::read_to_string(&page).unwrap();
    assert_eq!(raw.matches("<circle class=\"moved\"").count(), 12);
    assert!(raw.contains("<title>random_s0: old "), "a moved point names its case");
}

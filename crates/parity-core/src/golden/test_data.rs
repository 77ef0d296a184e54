//! The ONNX test-data layout: `test_data_set_N/{input,output}_K.pb` plus `cases.json`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::spec::{Spec, Specs, check_case};
use super::{CASES_JSON, Case, Manifest, TEST_DATA_PREFIX, attach_source, io_err};
use crate::{Error, NamedTensors, Result};

/// `cases.json`: `{"0": "name", ...}` or `["name", ...]`, index = N of `test_data_set_N`.
pub(super) fn read_cases_json(path: &Path) -> Result<BTreeMap<usize, String>> {
    let text = String::from_utf8(crate::fsutil::read_regular(path)?)
        .map_err(|_| Error::invalid(path, "invalid json: not UTF-8 text"))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::invalid(path, format!("invalid json: {e}")))?;
    let bad = || {
        Error::invalid(
            path,
            "expected an object mapping index to case name, or a list of case names",
        )
    };
    let mut map = BTreeMap::new();
    match value {
        serde_json::Value::Array(items) => {
            for (i, v) in items.into_iter().enumerate() {
                map.insert(i, v.as_str().ok_or_else(bad)?.to_string());
            }
        }
        serde_json::Value::Object(items) => {
            for (k, v) in items {
                let i: usize = k
                    .parse()
                    .map_err(|_| Error::invalid(path, format!("key '{k}' is not an index")))?;
                map.insert(i, v.as_str().ok_or_else(bad)?.to_string());
            }
        }
        _ => return Err(bad()),
    }
    Ok(map)
}

/// The case names of test-data directories `sets`: from `cases.json` when there is one, else
/// `test_data_set_N`; a name used twice is an error.
pub(super) fn test_data_names(dir: &Path, sets: &[(usize, PathBuf)]) -> Result<Vec<String>> {
    let cases_path = dir.join(CASES_JSON);
    let names = if cases_path.exists() { read_cases_json(&cases_path)? } else { BTreeMap::new() };
    let mut seen: BTreeMap<String, &PathBuf> = BTreeMap::new();
    let mut out = Vec::with_capacity(sets.len());
    for (n, set_dir) in sets {
        let name = names.get(n).cloned().unwrap_or_else(|| format!("{TEST_DATA_PREFIX}{n}"));
        if let Some(other) = seen.insert(name.clone(), set_dir) {
            return Err(Error::invalid(
                &cases_path,
                format!(
                    "case name '{name}' used twice ({} and {})",
                    other.display(),
                    set_dir.display()
                ),
            ));
        }
        out.push(name);
    }
    Ok(out)
}

/// Reads the test-data case in `set_dir`, named `name`.
pub(super) fn read_test_data_case(
    dir: &Path,
    name: &str,
    set_dir: &Path,
    specs: &Specs,
    manifest: Option<&Manifest>,
) -> Result<Case> {
    let inputs = read_pb_group(set_dir, "input", &specs.inputs)?;
    let outputs = read_pb_group(set_dir, "output", &specs.outputs)?;
    check_case(set_dir, specs, &inputs, &outputs)?;
    let mut case = Case { path: set_dir.to_path_buf(), ..Case::new(name, inputs, outputs) };
    attach_source(&mut case, dir, manifest);
    Ok(case)
}

/// Reads `{prefix}_0.pb ... {prefix}_{K-1}.pb` of one test-data directory, naming each tensor by
/// its `name` field or else by position in `specs`.
pub(super) fn read_pb_group(set_dir: &Path, prefix: &str, specs: &[Spec]) -> Result<NamedTensors> {
    let mut count = 0;
    while set_dir.join(format!("{prefix}_{count}.pb")).exists() {
        count += 1;
    }
    if count != specs.len() {
        let what = if prefix == "input" { "inputs" } else { "outputs" };
        return Err(Error::invalid(
            set_dir,
            format!("holds {count} {prefix}_K.pb files, the model has {} {what}", specs.len()),
        ));
    }
    let mut tensors = NamedTensors::new();
    for (k, spec) in specs.iter().enumerate() {
        let path = set_dir.join(format!("{prefix}_{k}.pb"));
        let (name, tensor) = crate::tensor_proto::read(&path)?;
        let name = name.unwrap_or_else(|| spec.name.clone());
        if !specs.iter().any(|s| s.name == name) {
            let declared: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
            return Err(Error::invalid(
                &path,
                format!(
                    "holds tensor '{name}', the model has no {prefix} of that name ({})",
                    declared.join(", ")
                ),
            ));
        }
        if tensors.insert(name.clone(), tensor).is_some() {
            return Err(Error::invalid(
                &path,
                format!("tensor '{name}' appears twice in {}", set_dir.display()),
            ));
        }
    }
    Ok(tensors)
}

/// Writes `cases` in the ONNX test-data layout (`test_data_set_N/input_K.pb`, `output_K.pb`
/// with `name` set, K in `input_names` / `output_names` order, N in slice order) plus
/// `cases.json`, atomically as [`write_npz`](super::write_npz) does. `dir` must not exist yet.
pub fn write_test_data<S: AsRef<str>>(
    dir: impl AsRef<Path>,
    cases: &[Case],
    input_names: &[S],
    output_names: &[S],
) -> Result<()> {
    write_test_data_with(dir, cases, input_names, output_names, &[])
}

/// [`write_test_data`] with more files beside the test data sets, written in the same atomic
/// step: `(file name, bytes)`, e.g. the `model.onnx` the cases belong to (a self-contained repro
/// that `onnx_test_runner` reads as it is).
pub fn write_test_data_with<S: AsRef<str>>(
    dir: impl AsRef<Path>,
    cases: &[Case],
    input_names: &[S],
    output_names: &[S],
    files: &[(&str, &[u8])],
) -> Result<()> {
    let dir = dir.as_ref();
    if dir.exists() {
        return Err(Error::invalid(dir, "already exists; refusing to overwrite"));
    }
    if cases.is_empty() {
        return Err(Error::invalid(dir, "refusing to write a golden set with no cases"));
    }
    crate::fsutil::write_dir_atomic(dir, false, |staging| {
        let mut names = Vec::new();
        for (n, case) in cases.iter().enumerate() {
            let set = staging.join(format!("{TEST_DATA_PREFIX}{n}"));
            fs::create_dir(&set).map_err(io_err(&set))?;
            for (prefix, wanted, map) in
                [("input", input_names, &case.inputs), ("output", output_names, &case.outputs)]
            {
                for (k, name) in wanted.iter().enumerate() {
                    let name = name.as_ref();
                    let t = map.get(name).ok_or_else(|| {
                        Error::invalid(
                            dir,
                            format!("case '{}' has no {prefix} '{name}'", case.name),
                        )
                    })?;
                    let path = set.join(format!("{prefix}_{k}.pb"));
                    fs::write(&path, crate::tensor_proto::encode(Some(name), t))
                        .map_err(io_err(&path))?;
                }
            }
            names.push(case.name.clone());
        }
        for (file, bytes) in files {
            fs::write(staging.join(file), bytes).map_err(io_err(&dir.join(file)))?;
        }
        let text =
            serde_json::to_string_pretty(&names).map_err(|e| Error::invalid(dir, e.to_string()))?;
        fs::write(staging.join(CASES_JSON), text + "\n").map_err(io_err(&dir.join(CASES_JSON)))
    })
}

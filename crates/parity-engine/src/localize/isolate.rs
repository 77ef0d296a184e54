//! One node run alone on given values of its inputs (the *isolated* run): a node whose isolated
//! error exceeds the tolerance computes differently itself, whatever its inputs did.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use parity_core::onnx::proto::ModelProto;
use parity_core::{NamedTensors, Options};
use prost::Message;

use crate::BackendName;

/// Runs `cut` on `backend`, fed `feed`; the model is written to `scratch` first, named by `tag`.
/// An error is a message: a backend that cannot run a node alone leaves that node's isolated
/// error unknown, it does not end the run.
pub fn run(
    backend: BackendName,
    cut: &ModelProto,
    tag: &str,
    feed: &NamedTensors,
    options: &Options,
    scratch: &Path,
) -> Result<NamedTensors, String> {
    let path: PathBuf = scratch.join(format!("{tag}-{}.onnx", backend.as_str()));
    std::fs::write(&path, cut.encode_to_vec()).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut runnable = backend.runtime().prepare(&path, options).map_err(|e| e.to_string())?;
    runnable.run(feed).map_err(|e| e.to_string())
}

/// Feeds and expected outputs a merged model of nodes holds at most ([`run_all`]): memory stays
/// bounded by this, whatever the model's size, while one preparation serves many nodes.
pub const GROUP_BYTES: usize = 256 << 20;

/// One node cut out to run alone: its model, what it is fed, and the bytes of its feed and
/// expected outputs.
pub struct Cut {
    /// The node's index in the graph.
    pub node: usize,
    /// The node (with what computes its inputs that have no value) as a model.
    pub model: ModelProto,
    /// What it is fed.
    pub feed: NamedTensors,
    /// Bytes of its feed and expected outputs.
    pub bytes: usize,
}

/// Every cut's outputs on `backend`, by node: the cuts merged, a group of at most
/// [`GROUP_BYTES`] at a time, into one model that is prepared and run once (each cut's names
/// prefixed, so the nodes stay apart); a group the backend cannot prepare or run as one runs cut
/// by cut instead, so each node keeps its own outcome.
pub fn run_all(
    backend: BackendName,
    cuts: impl Iterator<Item = Cut>,
    options: &Options,
    scratch: &Path,
) -> HashMap<usize, Result<NamedTensors, String>> {
    let mut outcomes = HashMap::new();
    let mut group: Vec<Cut> = Vec::new();
    let mut bytes = 0;
    let flush = |group: &mut Vec<Cut>, outcomes: &mut HashMap<_, _>| {
        outcomes.extend(run_group(backend, std::mem::take(group), options, scratch));
    };
    for cut in cuts {
        if !group.is_empty() && bytes + cut.bytes > GROUP_BYTES {
            flush(&mut group, &mut outcomes);
            bytes = 0;
        }
        bytes += cut.bytes;
        group.push(cut);
    }
    flush(&mut group, &mut outcomes);
    outcomes
}

/// One group of cuts, merged; when the backend cannot run them as one, the cuts it is fed for
/// merged again without the constant ones (every input folded into an initializer: RTen folds
/// equal constants into one value and then refuses the model's outputs as duplicates), and the
/// rest cut by cut.
fn run_group(
    backend: BackendName,
    group: Vec<Cut>,
    options: &Options,
    scratch: &Path,
) -> Vec<(usize, Result<NamedTensors, String>)> {
    if let Some(merged) = run_merged(backend, &group, options, scratch) {
        return merged;
    }
    let (fed, constant): (Vec<Cut>, Vec<Cut>) = group.into_iter().partition(|c| !c.feed.is_empty());
    let mut outcomes = Vec::new();
    let mut alone = Vec::new();
    // Without constant cuts, the fed ones are the group that just failed.
    let merged =
        if constant.is_empty() { None } else { run_merged(backend, &fed, options, scratch) };
    match merged {
        Some(merged) => outcomes.extend(merged),
        None => alone.extend(fed),
    }
    alone.extend(constant);
    let tag = |cut: &Cut| format!("node-{}", cut.node);
    outcomes.extend(
        alone.iter().map(|cut| {
            (cut.node, run(backend, &cut.model, &tag(cut), &cut.feed, options, scratch))
        }),
    );
    outcomes
}

/// The cuts merged into one model, prepared and run once: each cut's outputs, or `None` when
/// there are fewer than two cuts or the backend cannot run them as one.
fn run_merged(
    backend: BackendName,
    cuts: &[Cut],
    options: &Options,
    scratch: &Path,
) -> Option<Vec<(usize, Result<NamedTensors, String>)>> {
    if cuts.len() < 2 {
        return None;
    }
    let (model, feed) = merge(cuts);
    let tag = format!("nodes-{}", cuts[0].node);
    let mut outputs = run(backend, &model, &tag, &feed, options, scratch).ok()?;
    Some(cuts.iter().map(|cut| (cut.node, Ok(split(&mut outputs, cut)))).collect())
}

/// The prefix that keeps a cut's names apart in a merged model.
fn prefix(cut: &Cut) -> String {
    format!("n{}/", cut.node)
}

/// The cuts as one model (the first one's opsets and functions) and its feed.
fn merge(cuts: &[Cut]) -> (ModelProto, NamedTensors) {
    let mut model = cuts[0].model.clone();
    let mut feed = NamedTensors::new();
    let mut graph = model.graph.take().unwrap_or_default();
    graph.node.clear();
    graph.input.clear();
    graph.output.clear();
    graph.initializer.clear();
    graph.value_info.clear();
    for cut in cuts {
        let pre = prefix(cut);
        let name = |n: &str| if n.is_empty() { String::new() } else { format!("{pre}{n}") };
        let Some(g) = cut.model.graph.as_ref() else { continue };
        for node in &g.node {
            let mut node = node.clone();
            node.name = node.name.as_deref().map(&name);
            node.input.iter_mut().for_each(|i| *i = name(i));
            node.output.iter_mut().for_each(|o| *o = name(o));
            graph.node.push(node);
        }
        let renamed = |v: &parity_core::onnx::proto::ValueInfoProto| {
            let mut v = v.clone();
            v.name = v.name.as_deref().map(&name);
            v
        };
        graph.input.extend(g.input.iter().map(renamed));
        graph.output.extend(g.output.iter().map(renamed));
        graph.value_info.extend(g.value_info.iter().map(renamed));
        graph.initializer.extend(g.initializer.iter().map(|t| {
            let mut t = t.clone();
            t.name = t.name.as_deref().map(&name);
            t
        }));
        feed.extend(cut.feed.iter().map(|(n, t)| (name(n), t.clone())));
    }
    model.graph = Some(graph);
    (model, feed)
}

/// A cut's own outputs, taken out of a merged run's.
fn split(outputs: &mut NamedTensors, cut: &Cut) -> NamedTensors {
    let pre = prefix(cut);
    let names: Vec<String> = outputs.keys().filter(|k| k.starts_with(&pre)).cloned().collect();
    names
        .into_iter()
        .filter_map(|k| Some((k[pre.len()..].to_string(), outputs.remove(&k)?)))
        .collect()
}

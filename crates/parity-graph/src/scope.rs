//! The PyTorch module a node was exported from, as the export itself records it, so that a user
//! with only ONNX files still learns which module and which line of source to look at.
//!
//! - torch.onnx's dynamo exporter writes each node's `metadata_props`:
//!   `pkg.torch.onnx.name_scopes` (`['', 'features', 'features.0', 'features.0.bn', 'op']`: the
//!   module path at each level, the FX node last), `pkg.torch.onnx.class_hierarchy` (the class at
//!   each level) and `pkg.torch.onnx.stack_trace` (Python's traceback of the call).
//! - The TorchScript ("legacy") exporter writes the scope into the node's name:
//!   `/features/denseblock3/denselayer11/conv2/Conv`, a level either a child's attribute name or
//!   the child's whole path (`/features/features.0/conv/Conv`); a module's second call is
//!   `relu_1` (kept as written: a module may be named so).

use std::collections::HashMap;

use parity_core::onnx::proto::{GraphProto, NodeProto};
use serde::Serialize;

/// The dynamo exporter's module path per level.
pub const NAME_SCOPES: &str = "pkg.torch.onnx.name_scopes";
/// The dynamo exporter's module class per level.
pub const CLASS_HIERARCHY: &str = "pkg.torch.onnx.class_hierarchy";
/// The dynamo exporter's Python traceback of the op's call.
pub const STACK_TRACE: &str = "pkg.torch.onnx.stack_trace";

/// Where in the PyTorch model a value was computed. Every field is optional: an export records
/// what its exporter knows (the legacy exporter no class, no source).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// The module's path in the model (`encoder.layer.1.attention.self`; `""` for the model
    /// itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// The module's class (`transformers.models.bert.modeling_bert.BertSelfAttention`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_class: Option<String>,
    /// The line of the model's source that made the op (`path/model.py:42`), outside torch's own
    /// package where the traceback has such a frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Origin {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.module.is_none() && self.module_class.is_none() && self.source.is_none()
    }

    /// `module (Class)`, `module`, or `(Class)`; `<model>` stands for the model itself.
    pub fn describe(&self) -> Option<String> {
        let module = self.module.as_deref().map(|m| if m.is_empty() { "<model>" } else { m });
        let class = self.module_class.as_deref().map(|c| c.rsplit('.').next().unwrap_or(c));
        match (module, class) {
            (Some(m), Some(c)) => Some(format!("{m} ({c})")),
            (Some(m), None) => Some(m.to_string()),
            (None, Some(c)) => Some(format!("({c})")),
            (None, None) => None,
        }
    }
}

/// What `node`'s export records of its module: dynamo's metadata, else a legacy scope name.
pub fn of(node: &NodeProto) -> Origin {
    let prop = |key: &str| {
        node.metadata_props.iter().find(|p| p.key() == key).map(|p| p.value().to_string())
    };
    if let Some(scopes) = prop(NAME_SCOPES).and_then(|s| python_strings(&s)) {
        let classes = prop(CLASS_HIERARCHY).and_then(|s| python_strings(&s)).unwrap_or_default();
        // The last level is the FX node (the op); the module is the one above it.
        let level = scopes.len().checked_sub(2);
        return Origin {
            module: level.map(|l| scopes[l].clone()),
            module_class: level.and_then(|l| classes.get(l).cloned()),
            source: prop(STACK_TRACE).and_then(|t| source_line(&t)),
        };
    }
    Origin { module: legacy_scope(node.name()), ..Origin::default() }
}

/// Every value of `graph`'s nodes whose export records its module, with that origin.
pub fn of_graph(graph: &GraphProto) -> HashMap<String, Origin> {
    graph
        .node
        .iter()
        .flat_map(|node| {
            let origin = of(node);
            node.output.iter().filter(|v| !v.is_empty()).map(move |v| (v.clone(), origin.clone()))
        })
        .filter(|(_, origin)| !origin.is_empty())
        .collect()
}

/// The module path of a legacy scope name (`/features/features.0/conv/Conv` ->
/// `features.0.conv`; `/ReduceMean` -> the model itself); `None` for a name without a scope.
pub fn legacy_scope(name: &str) -> Option<String> {
    let levels: Vec<&str> = name.strip_prefix('/')?.split('/').collect();
    let (_op, modules) = levels.split_last()?;
    let mut path = String::new();
    for level in modules {
        path = if path.is_empty() || level.starts_with(&format!("{path}.")) {
            level.to_string()
        } else {
            format!("{path}.{level}")
        };
    }
    Some(path)
}

/// The strings of a Python list's repr (`['', 'a.b', "it's"]`); `None` if it is not one.
pub fn python_strings(repr: &str) -> Option<Vec<String>> {
    let inner = repr.trim().strip_prefix('[')?.strip_suffix(']')?;
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let Some(quote) = chars.next() else { return Some(out) };
        if quote != '\'' && quote != '"' {
            return None;
        }
        let mut item = String::new();
        loop {
            match chars.next()? {
                '\\' => item.push(chars.next()?),
                c if c == quote => break,
                c => item.push(c),
            }
        }
        out.push(item);
    }
}

/// `file:line` of the innermost frame of a Python traceback that is not in torch's own package
/// (the model's own code), else of the innermost frame.
pub fn source_line(trace: &str) -> Option<String> {
    let frames: Vec<String> = trace
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("File \"")?;
            let (file, rest) = rest.split_once("\", line ")?;
            let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
            (!number.is_empty()).then(|| format!("{file}:{number}"))
        })
        .collect();
    let in_torch =
        |f: &String| f.contains("/site-packages/torch/") || f.contains("/dist-packages/torch/");
    frames.iter().rev().find(|f| !in_torch(f)).or(frames.last()).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use parity_core::onnx::proto::StringStringEntryProto;

    fn entry(key: &str, value: &str) -> StringStringEntryProto {
        StringStringEntryProto { key: Some(key.into()), value: Some(value.into()) }
    }

    #[test]
    fn dynamo_metadata_names_the_module_its_class_and_the_models_own_line() {
        // As torch 2.15's dynamo exporter writes them (a BatchNorm inside a Sequential's block).
        let node = NodeProto {
            name: Some("node_Conv_11".into()),
            metadata_props: vec![
                entry(
                    NAME_SCOPES,
                    "['', 'features', 'features.0', 'features.0.bn', '_native_batch_norm']",
                ),
                entry(
                    CLASS_HIERARCHY,
                    "['__main__.Net', 'torch.nn.modules.container.Sequential', '__main__.Blk', \
                     'torch.nn.modules.batchnorm.BatchNorm2d', 'aten._native_batch_norm.default']",
                ),
                entry(
                    STACK_TRACE,
                    "File \"/src/net.py\", line 10, in forward\n    return self.features(x)\n  \
                     File \"/src/net.py\", line 7, in forward\n    return self.bn(self.conv(x))\n  \
                     File \"/venv/lib/python3.11/site-packages/torch/nn/modules/batchnorm.py\", line 193, in forward\n    return F.batch_norm(",
                ),
            ],
            ..Default::default()
        };
        let origin = of(&node);
        assert_eq!(origin.module.as_deref(), Some("features.0.bn"));
        assert_eq!(origin.module_class.as_deref(), Some("torch.nn.modules.batchnorm.BatchNorm2d"));
        assert_eq!(origin.source.as_deref(), Some("/src/net.py:7"));
        assert_eq!(origin.describe().as_deref(), Some("features.0.bn (BatchNorm2d)"));
    }

    #[test]
    fn legacy_scope_names_give_the_module_path() {
        assert_eq!(
            legacy_scope("/features/denseblock3/denselayer11/conv2/Conv").as_deref(),
            Some("features.denseblock3.denselayer11.conv2")
        );
        assert_eq!(
            legacy_scope("/features/features.0/conv/Conv").as_deref(),
            Some("features.0.conv")
        );
        assert_eq!(legacy_scope("/ReduceMean").as_deref(), Some(""));
        assert_eq!(legacy_scope("Conv_12"), None);
        let node = NodeProto { name: Some("/head/Gemm".into()), ..Default::default() };
        assert_eq!(of(&node), Origin { module: Some("head".into()), ..Origin::default() });
    }

    #[test]
    fn python_list_reprs_parse_and_anything_else_does_not() {
        assert_eq!(
            python_strings(r#"['', 'a.b', "it's", 'x\'y']"#),
            Some(vec!["".into(), "a.b".into(), "it's".into(), "x'y".into()])
        );
        assert_eq!(python_strings("[]"), Some(vec![]));
        assert_eq!(python_strings("['unterminated"), None);
        assert_eq!(python_strings("not a list"), None);
    }
}

//! ONNX graph work that runs nothing:
//! - the FLOP count of a graph ([`flops`]), from its nodes, attributes and initializers plus the
//!   concrete shape of each value (which a caller obtains from any shape analysis, e.g. tract's,
//!   for the input shapes it runs, with the gaps filled by [`shapes`], this crate's own inference
//!   for the common ops);
//! - the values a graph computes, in order, and the graph rewritten to return them all
//!   ([`values`], Polygraphy's "mark all"), typed by [`dtypes`];
//! - one node, or a chain of nodes, cut out as a model of its own ([`extract`]), and fed given
//!   values, constants folded in ([`cut`]), to run it alone or write it as a repro;
//! - the values of two exports whose names differ, paired by sequence alignment ([`align`]);
//! - the PyTorch module each node was exported from, as the export records it ([`scope`]).
//!
//! The graph types are parity-core's ([`parity_core::onnx::proto`]); this crate knows no backend.
//!
//! ```
//! use std::collections::HashMap;
//! use parity_core::onnx::proto::{GraphProto, NodeProto};
//!
//! // Y[2, 4] = Gemm(A[2, 3], B[3, 4]): 2 * 2 * 4 * 3 multiply-adds counted as two FLOPs each.
//! let graph = GraphProto {
//!     node: vec![NodeProto {
//!         op_type: Some("Gemm".into()),
//!         input: vec!["A".into(), "B".into()],
//!         output: vec!["Y".into()],
//!         ..Default::default()
//!     }],
//!     ..Default::default()
//! };
//! let shapes = HashMap::from([
//!     ("A".to_string(), vec![2, 3]),
//!     ("B".to_string(), vec![3, 4]),
//!     ("Y".to_string(), vec![2, 4]),
//! ]);
//! let count = parity_graph::flops::count(&graph, &shapes);
//! assert_eq!(count.total, 48);
//! ```

pub mod align;
pub mod cut;
pub mod dtypes;
pub mod extract;
pub mod flops;
pub mod scope;
pub mod shapes;
pub mod values;

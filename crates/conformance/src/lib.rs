//! The conformance suite: every committed demo model variant in `models/` on every golden case in
//! `fixtures/golden/` (and the ONNX test-data copy in `fixtures/golden_pb/`), the zoo
//! (`scripts/zoo.py`: torchvision architectures and a two-input module, exported into `target/`),
//! and every variant exported from the real checkpoint when `../shared` is present, each on every
//! backend.
//!
//! This crate has no code of its own: `tests/conformance.rs` holds one line per case and
//! `tests/suite/mod.rs` the test body and the `conformance!` macro that stamps each line out as
//! `case::ort`, `case::tract`, `case::candle` and `case::rten`, with a backend's known failure (the op it lacks)
//! asserted on the case's line. Run it with `cargo test -p conformance`; `cargo test -p
//! conformance -- ::tract` runs one backend.

//! The conformance suite: one test body, stamped out once per backend (`ort`, `tract`, `candle`),
//! that runs every committed demo model variant in `models/` on every golden case in
//! `fixtures/golden/` (and the ONNX test-data copy in `fixtures/golden_pb/`), and every variant
//! exported from the real checkpoint when `../shared` and the reference Python are present.
//!
//! This crate has no code of its own: the suite is `tests/suite/mod.rs` (the test bodies and the
//! `conformance_suite!` macro) and `tests/conformance.rs` (one invocation per backend, with that
//! backend's known failures as `#[ignore = "reason"]`). Run it with `cargo test -p conformance`;
//! `cargo test -p conformance -- ort::` runs one backend.

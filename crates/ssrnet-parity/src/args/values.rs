//! clap value parsers for numbers with bounds: thread counts, batch sizes, case counts, seconds.

/// clap value parser: a thread count from 1 to [`parity_core::backend::max_threads`].
pub fn thread_count(s: &str) -> Result<usize, String> {
    up_to(s, parity_core::backend::max_threads(), " (four per core on this machine)")
}

/// The most random cases `--random` makes (they are generated before the run).
pub const MAX_RANDOM_CASES: usize = 100_000;

/// clap value parser: a number of random cases, from 1 to [`MAX_RANDOM_CASES`].
pub fn random_count(s: &str) -> Result<usize, String> {
    up_to(s, MAX_RANDOM_CASES, "")
}

/// The most images one streamed batch holds (`predict --batch`): two batches are in memory at a
/// time, each image decoded and resized.
pub const MAX_STREAM_BATCH: usize = 1024;

/// clap value parser: a streamed batch size, from 1 to [`MAX_STREAM_BATCH`].
pub fn batch_size(s: &str) -> Result<usize, String> {
    up_to(s, MAX_STREAM_BATCH, "")
}

/// clap value parser: `auto`, or a batch size as [`batch_size`] takes it.
pub fn batch_or_auto(s: &str) -> Result<parity_engine::batch::Batch, String> {
    match s.trim() {
        "auto" => Ok(parity_engine::batch::Batch::Auto),
        n => batch_size(n)
            .map(parity_engine::batch::Batch::Size)
            .map_err(|e| format!("{e} (or 'auto')")),
    }
}

/// An integer from 1 to `max`; above it, the error says why (`because`).
fn up_to(s: &str, max: usize, because: &str) -> Result<usize, String> {
    let n = at_least_one(s)?;
    if n > max {
        return Err(format!("must be at most {max}{because}"));
    }
    Ok(n)
}

/// clap value parser: an integer of at least 1 (batch sizes).
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("must be an integer of at least 1".into()),
    }
}

/// clap value parser: a finite number above zero (seconds).
pub fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x <= 3600.0 => Ok(x),
        _ => Err("must be a number of seconds above 0 (at most 3600)".into()),
    }
}

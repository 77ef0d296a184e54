//! `ssrnet-parity merge REPORT...`: the JSON reports of the N shards of one run (`--shard K/N
//! --format json`) folded into the report one run over every case would have printed: the case
//! reports of all shards, put back in the run's order, summarised by the same code.
//!
//! Shards are refused, each by file name, when they come from another model, golden set,
//! tolerance, backend list or shard count, or when a shard is missing or given twice.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use parity_core::compare::CaseReport;
use serde::Deserialize;

use crate::Verdict;
use crate::output::Format;
use crate::parity::{ParityReport, ShardPart, SideReport};
use parity_engine::report::Outcome;

#[derive(clap::Args)]
pub struct Args {
    /// The shards' JSON reports (`check --shard K/N --format json`), all N of them.
    #[arg(required = true, value_name = "REPORT")]
    reports: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// What `merge` reads of a shard's report.
#[derive(Deserialize)]
struct ShardReport {
    command: String,
    model: String,
    reference: String,
    profile: String,
    shard: Option<ShardPart>,
    backends: Vec<ShardSide>,
}

#[derive(Deserialize)]
struct ShardSide {
    name: String,
    verdict: Outcome,
    error: Option<String>,
    skipped: Option<String>,
    case_reports: Option<Vec<CaseReport>>,
}

pub fn run(args: Args) -> Result<Verdict> {
    let mut shards: Vec<(PathBuf, ShardReport, ShardPart)> = Vec::new();
    for path in &args.reports {
        let bytes = parity_core::fsutil::read_regular(path)?;
        let report: ShardReport = serde_json::from_slice(&bytes)
            .map_err(|e| anyhow!("{}: not a JSON report of ssrnet-parity: {e}", path.display()))?;
        let Some(part) = report.shard.clone() else {
            bail!("{}: not a shard's report (run with --shard K/N --format json)", path.display());
        };
        shards.push((path.clone(), report, part));
    }
    let (first_path, first, first_part) = &shards[0];
    let mut by_index: BTreeMap<usize, &PathBuf> = BTreeMap::new();
    for (path, report, part) in &shards {
        let differs = |what: &str| {
            anyhow!(
                "{}: {what} differs from {}'s; shards of one run share it",
                path.display(),
                first_path.display()
            )
        };
        if report.command != first.command {
            return Err(differs("the command"));
        }
        if part.model_sha256 != first_part.model_sha256 {
            return Err(differs("the model (sha256)"));
        }
        if part.reference_sha256 != first_part.reference_sha256 {
            return Err(differs("the golden set"));
        }
        if part.tolerances != first_part.tolerances || part.nan_equal != first_part.nan_equal {
            return Err(differs("the tolerance"));
        }
        if part.backends != first_part.backends {
            return Err(differs("the backend list"));
        }
        if part.count != first_part.count || part.total_cases != first_part.total_cases {
            return Err(differs("the shard count"));
        }
        if let Some(other) = by_index.insert(part.index, path) {
            bail!(
                "{} and {} are both shard {}/{}",
                other.display(),
                path.display(),
                part.index,
                part.count
            );
        }
        if report.backends.iter().any(|side| case_count(side, part) != part.positions.len()) {
            bail!("{}: its case reports do not match its case list", path.display());
        }
    }
    let missing: Vec<String> = (0..first_part.count)
        .filter(|k| !by_index.contains_key(k))
        .map(|k| format!("{k}/{}", first_part.count))
        .collect();
    if !missing.is_empty() {
        bail!("missing shard(s) {} of {} given", missing.join(", "), shards.len());
    }

    let mut sides = Vec::new();
    for (b, name) in first_part.backends.iter().enumerate() {
        let mut cases: Vec<(usize, CaseReport)> = Vec::with_capacity(first_part.total_cases);
        let mut error = None;
        let mut skipped = None;
        for (path, report, part) in &shards {
            let side =
                report.backends.get(b).filter(|s| &s.name == name).ok_or_else(|| {
                    anyhow!("{}: has no report of backend {name}", path.display())
                })?;
            if side.verdict == Outcome::Error {
                error.get_or_insert_with(|| {
                    side.error.clone().unwrap_or_else(|| format!("{name}: failed"))
                });
                continue;
            }
            if side.verdict == Outcome::Skipped {
                skipped.get_or_insert_with(|| side.skipped.clone().unwrap_or_default());
                continue;
            }
            let reports = side
                .case_reports
                .clone()
                .ok_or_else(|| anyhow!("{}: backend {name} has no case reports", path.display()))?;
            cases.extend(part.positions.iter().copied().zip(reports));
        }
        sides.push(match (error, skipped) {
            (Some(e), _) => SideReport::from_error(name, e),
            (None, Some(why)) => SideReport::skipped(name, why),
            (None, None) => {
                cases.sort_by_key(|(position, _)| *position);
                SideReport::from_cases(name, cases.into_iter().map(|(_, c)| c).collect())
            }
        });
    }
    let report = ParityReport::new(
        &first.command,
        first.model.clone(),
        first.reference.clone(),
        first_part.total_cases,
        &first.profile,
        sides,
    );
    crate::parity::report::finish(report, args.format)
}

/// The cases a shard's side reports: its case reports, or (for a backend that failed) the
/// shard's case list.
fn case_count(side: &ShardSide, part: &ShardPart) -> usize {
    side.case_reports.as_ref().map_or(part.positions.len(), Vec::len)
}

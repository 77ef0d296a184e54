//! The JSON reports of the N shards of one run (`--shard K/N --format json`) folded into the report
//! one run over every case would have given: the case reports of all shards, put back in the run's
//! order, summarised by the same code.
//!
//! Shards are refused, each by file name, when they come from another model, golden set,
//! tolerance, backend list or shard count, or when a shard is missing or given twice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use parity_core::compare::CaseReport;
use serde::Deserialize;

use crate::Result;
use crate::error::invalid;
use crate::report::{Outcome, ParityReport, ShardPart, SideReport};

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

/// One shard: its file, its report, its part of the run.
type Shard = (PathBuf, ShardReport, ShardPart);

/// The report of the run whose shards' reports are the files `reports` (all N of them).
pub fn merge(reports: &[PathBuf]) -> Result<ParityReport> {
    let shards = reports.iter().map(|path| read(path)).collect::<Result<Vec<Shard>>>()?;
    let Some((_, first, first_part)) = shards.first() else {
        bail!("merge needs the shards' reports");
    };
    check_compatible(&shards)?;
    let sides = first_part
        .backends
        .iter()
        .enumerate()
        .map(|(b, name)| fold_side(&shards, b, name))
        .collect::<Result<Vec<_>>>()?;
    Ok(ParityReport::new(
        &first.command,
        first.model.clone(),
        first.reference.clone(),
        first_part.total_cases,
        &first.profile,
        sides,
    ))
}

/// One shard's report, read from `path`.
fn read(path: &Path) -> Result<Shard> {
    let bytes = parity_core::fsutil::read_regular(path)?;
    let report: ShardReport = serde_json::from_slice(&bytes).map_err(|e| {
        invalid(format!("{}: not a JSON report of ssrnet-parity: {e}", path.display()))
    })?;
    let Some(part) = report.shard.clone() else {
        bail!("{}: not a shard's report (run with --shard K/N --format json)", path.display());
    };
    Ok((path.to_path_buf(), report, part))
}

/// Every shard is of the first one's run, and every shard of it is there once.
fn check_compatible(shards: &[Shard]) -> Result<()> {
    let (first_path, first, first_part) = &shards[0];
    let mut by_index: BTreeMap<usize, &PathBuf> = BTreeMap::new();
    for (path, report, part) in shards {
        let differs = |what: &str| {
            invalid(format!(
                "{}: {what} differs from {}'s; shards of one run share it",
                path.display(),
                first_path.display()
            ))
        };
        let checks = [
            (report.command != first.command, "the command"),
            (part.model_sha256 != first_part.model_sha256, "the model (sha256)"),
            (part.reference_sha256 != first_part.reference_sha256, "the golden set"),
            (
                part.tolerances != first_part.tolerances || part.nan_equal != first_part.nan_equal,
                "the tolerance",
            ),
            (part.backends != first_part.backends, "the backend list"),
            (
                part.count != first_part.count || part.total_cases != first_part.total_cases,
                "the shard count",
            ),
        ];
        if let Some((_, what)) = checks.iter().find(|(differ, _)| *differ) {
            return Err(differs(what));
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
    Ok(())
}

/// Backend `b` (`name`) over every shard: its cases in the run's order, or the first error (or
/// reason to skip it) a shard gives.
fn fold_side(shards: &[Shard], b: usize, name: &str) -> Result<SideReport> {
    let total = shards[0].2.total_cases;
    let mut cases: Vec<(usize, CaseReport)> = Vec::with_capacity(total);
    let mut error = None;
    let mut skipped = None;
    for (path, report, part) in shards {
        let side = report.backends.get(b).filter(|s| s.name == name).ok_or_else(|| {
            invalid(format!("{}: has no report of backend {name}", path.display()))
        })?;
        match side.verdict {
            Outcome::Error => {
                error.get_or_insert_with(|| {
                    side.error.clone().unwrap_or_else(|| format!("{name}: failed"))
                });
            }
            Outcome::Skipped => {
                skipped.get_or_insert_with(|| side.skipped.clone().unwrap_or_default());
            }
            Outcome::Pass | Outcome::Fail => {
                let reports = side.case_reports.clone().ok_or_else(|| {
                    invalid(format!("{}: backend {name} has no case reports", path.display()))
                })?;
                cases.extend(part.positions.iter().copied().zip(reports));
            }
        }
    }
    Ok(match (error, skipped) {
        (Some(e), _) => SideReport::from_error(name, e),
        (None, Some(why)) => SideReport::skipped(name, why),
        (None, None) => {
            cases.sort_by_key(|(position, _)| *position);
            SideReport::from_cases(name, cases.into_iter().map(|(_, c)| c).collect())
        }
    })
}

/// The cases a shard's side reports: its case reports, or (for a backend that failed) the
/// shard's case list.
fn case_count(side: &ShardSide, part: &ShardPart) -> usize {
    side.case_reports.as_ref().map_or(part.positions.len(), Vec::len)
}

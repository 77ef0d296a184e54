//! `--shard K/N | auto`: a deterministic part of a run's cases, so N processes (on N machines)
//! cover every case once, and `merge` folds their partial reports into the report one run would
//! give.
//!
//! Case `i` (0-based, in the run's sorted case order) belongs to shard `i mod N`. `auto` reads the
//! index the batch engine gives the task: Slurm job arrays (`SLURM_ARRAY_TASK_ID` minus
//! `SLURM_ARRAY_TASK_MIN`, count `SLURM_ARRAY_TASK_COUNT`) or Kubernetes Indexed Jobs
//! (`JOB_COMPLETION_INDEX`, count from `auto/N` or `SSRNET_PARITY_SHARD_COUNT`, since Kubernetes
//! does not pass the completion count to the pod).

use serde::{Deserialize, Serialize};

use crate::Result;
use crate::error::invalid;

/// The most shards a run may be split into.
pub const MAX_SHARDS: usize = 100_000;

/// Shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard's index, below `count`.
    pub index: usize,
    /// How many shards the run is split into.
    pub count: usize,
}

/// What `--shard` said: a fixed shard, or the engine's (with the count, if given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardArg {
    /// `K/N`.
    Fixed(Shard),
    /// `auto` or `auto/N`: the index (and the count, unless given) from the batch engine.
    Auto(Option<usize>),
}

/// Parses `--shard`: `K/N` (0 <= K < N), `auto` or `auto/N`.
pub fn parse(s: &str) -> std::result::Result<ShardArg, String> {
    let count = |n: &str| -> std::result::Result<usize, String> {
        match n.parse::<usize>() {
            Ok(n) if (1..=MAX_SHARDS).contains(&n) => Ok(n),
            _ => Err(format!("shard count '{n}' must be a whole number from 1 to {MAX_SHARDS}")),
        }
    };
    if s == "auto" {
        return Ok(ShardArg::Auto(None));
    }
    if let Some(n) = s.strip_prefix("auto/") {
        return Ok(ShardArg::Auto(Some(count(n)?)));
    }
    let (k, n) = s.split_once('/').ok_or("expected K/N (e.g. 0/4), auto or auto/N")?;
    let count = count(n)?;
    let index: usize = k.parse().map_err(|_| format!("shard index '{k}' is not a whole number"))?;
    if index >= count {
        return Err(format!("shard index {index} must be below the count {count} (K is 0-based)"));
    }
    Ok(ShardArg::Fixed(Shard { index, count }))
}

impl ShardArg {
    /// The shard, reading the engine's variables for `auto`.
    pub fn resolve(self) -> Result<Shard> {
        self.resolve_with(|name| std::env::var(name).ok())
    }

    fn resolve_with(self, env: impl Fn(&str) -> Option<String>) -> Result<Shard> {
        let given = match self {
            ShardArg::Fixed(shard) => return Ok(shard),
            ShardArg::Auto(count) => count,
        };
        let number = |name: &str| -> Result<Option<usize>> {
            match env(name) {
                None => Ok(None),
                Some(v) => v.trim().parse::<usize>().map(Some).map_err(|_| {
                    invalid(format!("--shard auto: ${name} is '{v}', not a whole number"))
                }),
            }
        };
        let (index, count, from) = if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let count = given.or(number("SLURM_ARRAY_TASK_COUNT")?);
            let index = id.checked_sub(min).ok_or_else(|| {
                invalid(format!(
                    "--shard auto: $SLURM_ARRAY_TASK_ID {id} is below $SLURM_ARRAY_TASK_MIN {min}"
                ))
            })?;
            (index, count, "SLURM_ARRAY_TASK_ID")
        } else if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let count = number(&parity_core::names::env_name("SHARD_COUNT"))?;
            (index, given.or(count), "JOB_COMPLETION_INDEX")
        } else {
            return Err(invalid(
                "--shard auto: neither $SLURM_ARRAY_TASK_ID (a Slurm job array) nor \
                 $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; give --shard K/N",
            ));
        };
        let Some(count) = count else {
            return Err(invalid(format!(
                "--shard auto: ${from} gives the index but nothing gives the count; use \
                 --shard auto/N or set $SSRNET_PARITY_SHARD_COUNT"
            )));
        };
        if count == 0 || count > MAX_SHARDS || index >= count {
            return Err(invalid(format!(
                "--shard auto: index {index} from ${from} does not fit a count of {count}"
            )));
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The positions of this shard's cases among `total` cases.
    pub fn select(&self, total: usize) -> Vec<usize> {
        (self.index..total).step_by(self.count).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_cases() {
        let parts: Vec<Vec<usize>> =
            (0..4).map(|index| Shard { index, count: 4 }.select(10)).collect();
        assert_eq!(parts, [vec![0, 4, 8], vec![1, 5, 9], vec![2, 6], vec![3, 7]]);
        assert!(Shard { index: 3, count: 4 }.select(2).is_empty());
    }

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn flags_and_engines() {
        assert_eq!(parse("1/4"), Ok(ShardArg::Fixed(Shard { index: 1, count: 4 })));
        assert_eq!(parse("auto/8"), Ok(ShardArg::Auto(Some(8))));
        for bad in ["4/4", "x/4", "1/0", "1", "-1/4", "1/1000000"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        let auto = ShardArg::Auto(None);
        assert_eq!(auto.resolve_with(env(&slurm)).unwrap(), Shard { index: 2, count: 4 });
        let k8s = [("JOB_COMPLETION_INDEX", "2"), ("SSRNET_PARITY_SHARD_COUNT", "3")];
        assert_eq!(auto.resolve_with(env(&k8s)).unwrap(), Shard { index: 2, count: 3 });
        let k8s_no_count = [("JOB_COMPLETION_INDEX", "2")];
        assert!(auto.resolve_with(env(&k8s_no_count)).is_err());
        let given = ShardArg::Auto(Some(5));
        assert_eq!(given.resolve_with(env(&k8s_no_count)).unwrap(), Shard { index: 2, count: 5 });
        assert!(auto.resolve_with(env(&[])).is_err());
        assert!(given.resolve_with(env(&[("JOB_COMPLETION_INDEX", "5")])).is_err());
    }
}

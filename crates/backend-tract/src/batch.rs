//! Running a [`TractModel`]: a batch larger than the chunk size runs as consecutive chunks of one
//! cached plan, side by side on the model's threads when it has several.

use parity_core::{ModelInfo, NamedTensors, NamedViews, Result, Runnable};
use rayon::prelude::*;
use tract_linalg::multithread::{Executor, multithread_tract_scope};
use tract_onnx::prelude::{TValue, TypedSimpleState};
use tract_onnx::tract_core::internal::TVec;

use crate::convert::{to_tract, to_tract_rows};
use crate::load::backend_error;
use crate::model::{TractModel, run_state};

impl Runnable for TractModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn run_views(&mut self, inputs: &NamedViews<'_>) -> Result<NamedTensors> {
        let ordered = self.check(inputs)?;
        let batch = match self.batch_axis {
            Some(_) => ordered.first().map(|t| t.shape()[0]).unwrap_or(0),
            None => 0,
        };
        if batch <= self.chunk {
            let tensors = ordered.iter().map(|t| to_tract(t)).collect::<Result<Vec<_>>>()?;
            let out = self.run_one(tensors)?;
            return self.name_outputs(out);
        }
        // Split the batch axis into chunks of `self.chunk` (the last may be shorter).
        let chunk = self.chunk;
        let starts: Vec<usize> = (0..batch).step_by(chunk).collect();
        let slice = |start: usize| -> Result<Vec<tract_onnx::prelude::Tensor>> {
            let n = chunk.min(batch - start);
            ordered.iter().map(|t| to_tract_rows(t, start, n)).collect()
        };
        let mut parts: Vec<NamedTensors> = Vec::with_capacity(starts.len());
        if let Some(pool) = self.pool.clone() {
            // Inter-op parallelism: each thread runs whole chunks with its own state of the plan.
            // Make sure the plans exist first (plan building needs `&mut self`).
            let full = slice(0)?;
            let key: Vec<Vec<usize>> = full.iter().map(|t| t.shape().to_vec()).collect();
            let plan = self.plan_for(key)?.plan.clone();
            let last = *starts.last().expect("batch > chunk");
            let tail = if batch - last < chunk {
                let t = slice(last)?;
                let key: Vec<Vec<usize>> = t.iter().map(|t| t.shape().to_vec()).collect();
                Some(self.plan_for(key)?.plan.clone())
            } else {
                None
            };
            let path = &self.path;
            let outs: Vec<Result<TVec<TValue>>> = pool.install(|| {
                starts
                    .par_iter()
                    .map_init(
                        || None::<(bool, TypedSimpleState)>,
                        |state, &start| {
                            let is_tail = batch - start < chunk;
                            let plan =
                                if is_tail { tail.as_ref().expect("tail plan") } else { &plan };
                            if state.as_ref().is_none_or(|(t, _)| *t != is_tail) {
                                *state = Some((
                                    is_tail,
                                    plan.spawn().map_err(|e| backend_error(path, e))?,
                                ));
                            }
                            let tensors = slice(start)?;
                            let st = &mut state.as_mut().expect("spawned above").1;
                            // Run single-threaded inside: the pool's threads are busy with chunks.
                            multithread_tract_scope(Executor::SingleThread, || {
                                run_state(st, tensors)
                            })
                            .map_err(|e| backend_error(path, e))
                        },
                    )
                    .collect()
            });
            for out in outs {
                parts.push(self.name_outputs(out?)?);
            }
        } else {
            for &start in &starts {
                let tensors = slice(start)?;
                let out = self.run_one(tensors)?;
                parts.push(self.name_outputs(out)?);
            }
        }
        parity_core::concat_named(&parts)
    }
}

//! Input sets for `compare`, `diff` and `bench`: seeded random tensors shaped from a model's declared
//! inputs, images preprocessed exactly as cv2, or the inputs of a golden set.

use anyhow::{Result, bail};
use parity_core::{DType, Dim, ModelInfo, NamedTensors, Tensor};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// One named set of model inputs.
pub struct InputCase {
    pub name: String,
    pub inputs: NamedTensors,
}

/// A concrete shape for a declared one: symbolic axes become `batch` (first axis) and fail elsewhere.
pub fn concrete_shape(name: &str, dims: &[Dim], batch: usize) -> Result<Vec<usize>> {
    dims.iter()
        .enumerate()
        .map(|(axis, d)| match d {
            Dim::Fixed(n) => Ok(*n),
            Dim::Symbolic(_) if axis == 0 => Ok(batch),
            Dim::Symbolic(s) => bail!("input '{name}' has a symbolic axis {axis} ('{s}'); only the batch axis may be symbolic"),
        })
        .collect()
}

/// Standard-normal float32 inputs for every declared input, at `batch`, reproducible from `seed`.
pub fn random_inputs(info: &ModelInfo, batch: usize, seed: u64) -> Result<NamedTensors> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut out = NamedTensors::new();
    for io in &info.inputs {
        if io.dtype != DType::F32 {
            bail!("input '{}' is {:?}; random inputs are float32 only", io.name, io.dtype);
        }
        let shape = concrete_shape(&io.name, &io.shape, batch)?;
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
        out.insert(io.name.clone(), Tensor::from_f32(shape, data)?);
    }
    Ok(out)
}

/// `count` random batch-1 cases named `random_s{seed+i}`.
pub fn random_cases(info: &ModelInfo, count: usize, seed: u64) -> Result<Vec<InputCase>> {
    (0..count as u64)
        .map(|i| {
            Ok(InputCase {
                name: format!("random_s{}", seed + i),
                inputs: random_inputs(info, 1, seed + i)?,
            })
        })
        .collect()
}

/// Where `compare` and `diff` take their inputs from (default: `--random 8 --seed 0`).
#[derive(clap::Args, Clone, Debug)]
pub struct SourceArgs {
    /// A directory of images, decoded and resized exactly as cv2 (one case per image).
    #[arg(long, value_name = "DIR", group = "source")]
    pub inputs: Option<std::path::PathBuf>,
    /// The inputs of a golden set (either layout).
    #[arg(long, value_name = "DIR", group = "source")]
    pub golden: Option<std::path::PathBuf>,
    /// N seeded standard-normal batch-1 cases.
    #[arg(long, value_name = "N", group = "source")]
    pub random: Option<usize>,
    /// Seed of the first random case (case i uses seed + i).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl SourceArgs {
    /// The cases, and a description of where they came from.
    pub fn cases(&self, info: &ModelInfo) -> Result<(String, Vec<InputCase>)> {
        if let Some(dir) = &self.inputs {
            let pre = preprocessor_for(info)?;
            let cases = image_files(dir)?
                .iter()
                .map(|p| image_case(&pre, info, p).map(|(case, _)| case))
                .collect::<Result<Vec<_>>>()?;
            return Ok((format!("images in {}", dir.display()), cases));
        }
        if let Some(dir) = &self.golden {
            let golden = parity_core::GoldenSet::read(dir, &crate::parity::batch_agnostic(info))?;
            let cases = golden
                .cases
                .into_iter()
                .map(|c| InputCase { name: c.name, inputs: c.inputs })
                .collect();
            return Ok((format!("inputs of goldens {}", dir.display()), cases));
        }
        let n = self.random.unwrap_or(8);
        if n == 0 {
            bail!("--random needs at least one case");
        }
        Ok((
            format!("{n} random-normal inputs, seed {}", self.seed),
            random_cases(info, n, self.seed)?,
        ))
    }
}

/// Image files directly in `dir` (by extension), sorted; none is an error naming the directory.
pub fn image_files(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>> {
    const EXT: [&str; 9] = ["png", "jpg", "jpeg", "jpe", "bmp", "dib", "tif", "tiff", "webp"];
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: cannot read directory: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?.path();
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        if path.is_file() && ext.is_some_and(|e| EXT.contains(&e.as_str())) {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        bail!("{}: no images (png, jpg, bmp, tif, webp) in this directory", dir.display());
    }
    Ok(files)
}

/// The SSRNet preprocessing (cv2.imread, INTER_LINEAR, mean/std in BGR order) sized for the model's
/// single `[N, 3, H, W]` input.
pub fn preprocessor_for(info: &ModelInfo) -> Result<cv_preprocess::Preprocessor> {
    let [input] = info.inputs.as_slice() else {
        bail!("images can only feed a model with one input; this one has {}", info.inputs.len());
    };
    let size = match input.shape.as_slice() {
        [_, Dim::Fixed(3), Dim::Fixed(h), Dim::Fixed(w)] => (*w, *h),
        [_, Dim::Fixed(3), _, _] => (64, 64),
        other => bail!("input '{}' has shape {other:?}; images need [N, 3, H, W]", input.name),
    };
    Ok(cv_preprocess::Preprocessor { size, ..Default::default() })
}

/// One image as a batch-1 case named by its file stem, plus its resized BGR image.
pub fn image_case(
    pre: &cv_preprocess::Preprocessor,
    info: &ModelInfo,
    path: &std::path::Path,
) -> Result<(InputCase, cv_preprocess::Image)> {
    let batch = pre.run(&[path])?;
    let tensor = Tensor::from_f32(batch.shape.to_vec(), batch.tensor)?;
    let name = path
        .file_stem()
        .map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
    let mut inputs = NamedTensors::new();
    inputs.insert(info.inputs[0].name.clone(), tensor);
    let resized = batch.resized.into_iter().next().expect("one image in, one out");
    Ok((InputCase { name, inputs }, resized))
}

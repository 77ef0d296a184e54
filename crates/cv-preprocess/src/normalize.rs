//! uint8 HWC images -> one normalised NCHW float32 batch, in numpy's float32 arithmetic.

use crate::{Error, Image};

/// Channel order of the output tensor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChannelOrder {
    /// Keep cv2's B, G, R order (what SSRNet was trained on).
    #[default]
    Bgr,
    /// Reverse to R, G, B before normalising.
    Rgb,
}

/// `((x as f32) / 255 - mean[c]) / std[c]` per channel, where `c` counts channels in the output order.
///
/// Each step is one correctly rounded f32 operation, exactly what numpy computes for
/// `(img.astype(np.float32) / 255.0 - mean) / std` with `mean` and `std` float32 arrays (numpy 2 keeps
/// float32 when a Python float divides a float32 array).
#[derive(Clone, Debug, PartialEq)]
pub struct Normalize {
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub order: ChannelOrder,
}

impl Normalize {
    /// ImageNet's mean and std applied to B, G, R as cv2 stores them (what torchvision's
    /// statistics give a model trained on cv2 images without a channel swap).
    pub const IMAGENET_BGR: Normalize = Normalize {
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
        order: ChannelOrder::Bgr,
    };

    /// Normalises one 3-channel HWC image into `out` (CHW, `3 * height * width` values).
    pub fn image_into(&self, img: &Image, out: &mut [f32]) -> Result<(), Error> {
        if img.channels != 3 || img.data.len() != img.width * img.height * 3 {
            return Err(Error::InvalidSize(format!(
                "normalise needs a 3-channel image, got {}x{}x{} in {} bytes",
                img.width,
                img.height,
                img.channels,
                img.data.len()
            )));
        }
        if self.std.iter().chain(&self.mean).any(|v| !v.is_finite()) || self.std.contains(&0.0) {
            return Err(Error::InvalidSize(format!(
                "invalid normalisation: mean {:?}, std {:?} (finite values and non-zero std needed)",
                self.mean, self.std
            )));
        }
        let plane = img.width * img.height;
        if out.len() != 3 * plane {
            return Err(Error::InvalidSize(format!(
                "output holds {} values, need {}",
                out.len(),
                3 * plane
            )));
        }
        // 256-entry table per channel: the same f32 ops as numpy, done once per possible value.
        let (planes, rest) = out.split_at_mut(plane);
        let (p1, p2) = rest.split_at_mut(plane);
        let mut targets = [planes, p1, p2];
        for (c, target) in targets.iter_mut().enumerate() {
            let src_c = match self.order {
                ChannelOrder::Bgr => c,
                ChannelOrder::Rgb => 2 - c,
            };
            let table: [f32; 256] =
                std::array::from_fn(|v| (v as f32 / 255.0f32 - self.mean[c]) / self.std[c]);
            for (o, px) in target.iter_mut().zip(img.data.chunks_exact(3)) {
                *o = table[px[src_c] as usize];
            }
        }
        Ok(())
    }

    /// Normalises equally sized 3-channel images into one NCHW batch; returns the data and its shape.
    pub fn batch(&self, images: &[Image]) -> Result<(Vec<f32>, [usize; 4]), Error> {
        let Some(first) = images.first() else {
            return Err(Error::InvalidSize("cannot build a batch from no images".to_owned()));
        };
        let (h, w) = (first.height, first.width);
        let per = 3 * h * w;
        if per == 0 {
            return Err(Error::InvalidSize(format!("cannot normalise an empty {w}x{h} image")));
        }
        let mut data = vec![0f32; images.len() * per];
        for (img, out) in images.iter().zip(data.chunks_exact_mut(per)) {
            if (img.height, img.width) != (h, w) {
                return Err(Error::InvalidSize(format!(
                    "batch images differ in size: {}x{} and {}x{}",
                    w, h, img.width, img.height
                )));
            }
            self.image_into(img, out)?;
        }
        Ok((data, [images.len(), 3, h, w]))
    }
}

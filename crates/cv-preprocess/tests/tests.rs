//! cv-preprocess's one integration-test binary. Expected values come from cv2 itself (through
//! `cv2_oracle.py` in the project's venv) or from the committed goldens of the reference pipeline.

mod common;
mod errors;
mod golden;
mod parity;
mod resize_cases;

//! Real data: encoders trained in the shared embedding space on labelled
//! data (the bundled UCI optical digits or any CSV), with label noise as
//! frustration, the finite-data theory of Model T with the real design
//! matrix, and the studies that compare them.
pub mod config;
pub mod data;
pub mod encoder;
pub mod noise;
pub mod train;
pub mod experiment;
pub mod theory;
pub mod study_figure;
pub mod study_head;
pub mod study_slow_rate;

//! Study files (`analysis/*.toml`) and their runner, which finds each study
//! kind in a table the caller passes (the registry's); and the one study kind
//! that knows no model: `model-analysis`, the engine run on a model file.
pub mod model_analysis;
pub mod runner;
pub mod sweep;

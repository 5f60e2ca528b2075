//! One folder per built-in model, each with the same inner shape (`config`,
//! `simulation`, `reduced`, `theory`, `export`, `experiment`, `studies/`,
//! `api`), described in `src/models/README.md`. [`crate::registry`] lists
//! each model's entry points (`api::theory`, `api::simulate`,
//! `export::export`).
//!
//! Dependencies run one way: `common` <- `embedding` <- `head`, `teacher`;
//! `realdata` uses `common`, `head` (variants) and `teacher` (finite-data flow);
//! `ssl` uses `realdata` (data loader, encoders).
pub mod common;
pub mod embedding;
pub mod head;
pub mod realdata;
pub mod ssl;
pub mod teacher;

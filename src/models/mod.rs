//! One folder per built-in model. Each holds its microscopic simulation, its
//! reduced theory, its experiments and studies, and `api.rs`: the entry points
//! (`theory`, `simulate`, `export`) that [`crate::registry`] lists.
//!
//! Dependencies run one way: `common` <- `embedding` <- `head`, `teacher`;
//! `realdata` uses `common`, `head` (variants) and `teacher` (finite-data flow).
pub mod common;
pub mod embedding;
pub mod head;
pub mod realdata;
pub mod teacher;

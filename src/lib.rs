//! vaultc compiles a folder of Obsidian-style markdown notes.
//!
//! ```text
//! discover -> parse -> resolve -> graph -> diagnose -> render -> write
//! (walkdir)  (pulldown  (NameIndex) (petgraph) (Diagnostic) (minijinja) (atomic swap)
//!             -cmark)
//! ```
//!
//! [`compile::compile`] runs the first five stages and returns a [`Compilation`]; `check` reports
//! its diagnostics, `graph` exports its graph, and [`build::build`] renders and writes the site.
//! Every stage is a function over plain data; only `discover`, `theme` and `output` touch the
//! file system. See ARCHITECTURE.md for the map and the invariants.

pub mod bases;
pub mod build;
pub mod cache;
pub mod canvas;
mod code_hash;
pub mod compile;
pub mod config;
pub mod diag;
pub mod discover;
pub mod error;
pub mod export;
pub mod fix;
pub mod graph;
pub mod lsp;
pub mod output;
pub mod parse;
pub mod render;
pub mod resolve;
pub mod serve;
pub mod session;
pub mod settings;
pub mod site;
pub mod slug;
pub mod source;
pub mod vault;

pub use compile::{compile, Compilation, CompileOptions};
pub use error::{Error, Result};

mod build;
mod check;
mod cli;
mod corpora;
mod fix;
mod formats;
mod lints;
mod support;

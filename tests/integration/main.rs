mod build;
mod check;
mod cli;
mod corpora;
mod support;

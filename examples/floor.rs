//! The "floor" vaultc is compared against: the least work any markdown-to-HTML tool must do.
//!
//! ```text
//! cargo run --release --example floor -- VAULT OUTDIR     # read + parse + render + write
//! cargo run --release --example floor -- --no-write VAULT # read + parse only (the check floor)
//! ```
//!
//! Walks VAULT with walkdir (skipping dot-folders and dotfiles, as vaultc does), reads every
//! `.md` file, parses it with pulldown-cmark (tables, footnotes, strikethrough, task lists, math,
//! YAML metadata blocks, wikilinks) and, unless `--no-write`, renders it with `push_html` and
//! writes `OUTDIR/<same path>.html`. Files are processed in parallel on rayon's default thread
//! pool (set RAYON_NUM_THREADS to pin the thread count). No link resolution, no templates, no
//! search index: this is a lower bound, not a competitor.

use pulldown_cmark::{html, Options, Parser};
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn usage() -> ! {
    eprintln!("usage: floor [--no-write] VAULT [OUTDIR]");
    std::process::exit(2);
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_MATH
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_WIKILINKS
}

fn is_hidden(e: &walkdir::DirEntry) -> bool {
    e.depth() > 0 && e.file_name().to_str().is_some_and(|s| s.starts_with('.'))
}

fn main() {
    let mut no_write = false;
    let mut pos: Vec<String> = Vec::new();
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--no-write" => no_write = true,
            "-h" | "--help" => usage(),
            _ => pos.push(a),
        }
    }
    let (vault, out) = match (no_write, pos.len()) {
        (true, 1) => (PathBuf::from(&pos[0]), None),
        (false, 2) => (PathBuf::from(&pos[0]), Some(PathBuf::from(&pos[1]))),
        _ => usage(),
    };

    let t0 = Instant::now();
    let mut files: Vec<PathBuf> = Vec::new();
    for e in walkdir::WalkDir::new(&vault)
        .into_iter()
        .filter_entry(|e| !is_hidden(e))
    {
        let e = e.expect("walk vault");
        if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "md") {
            files.push(e.into_path());
        }
    }
    // The output folder is expected to be outside the vault.
    if let Some(out) = &out {
        let dirs: BTreeSet<&Path> = files
            .iter()
            .filter_map(|f| f.strip_prefix(&vault).ok()?.parent())
            .collect();
        fs::create_dir_all(out).expect("create output dir");
        for d in dirs {
            fs::create_dir_all(out.join(d)).expect("create output subdir");
        }
    }
    let opts = options();

    let (bytes, produced) = files
        .par_iter()
        .map(|f| {
            let text =
                fs::read_to_string(f).unwrap_or_else(|e| panic!("read {}: {}", f.display(), e));
            let parser = Parser::new_ext(&text, opts);
            match &out {
                None => {
                    // Parse only: drain every event so the whole document is parsed.
                    let events = parser.count() as u64;
                    (text.len() as u64, events)
                }
                Some(out) => {
                    let mut html_out = String::with_capacity(text.len() * 3 / 2);
                    html::push_html(&mut html_out, parser);
                    let rel = f.strip_prefix(&vault).unwrap().with_extension("html");
                    let dest = out.join(rel);
                    fs::write(&dest, html_out.as_bytes())
                        .unwrap_or_else(|e| panic!("write {}: {}", dest.display(), e));
                    (text.len() as u64, html_out.len() as u64)
                }
            }
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));

    let secs = t0.elapsed().as_secs_f64();
    let what = if no_write { "events" } else { "html_bytes" };
    println!(
        "floor: mode={} notes={} md_bytes={} {}={} threads={} seconds={:.3} notes_per_s={:.0}",
        if no_write { "parse" } else { "write" },
        files.len(),
        bytes,
        what,
        produced,
        rayon::current_num_threads(),
        secs,
        files.len() as f64 / secs.max(1e-9)
    );
}

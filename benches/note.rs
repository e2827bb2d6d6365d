//! Micro-benchmarks of one note through parse, resolve and render (issue 4), plus whole-vault
//! references over the demo vault. Run with `cargo bench --bench note`; see bench/README.md.
//!
//! The note is 3.4 KB with front matter, headings, lists, a table, code, a callout, block ids,
//! inline tags and 26 links of every form. It lives in a generated 50-note vault (written
//! to a temporary folder once, then compiled with the library) so its links have real targets
//! and its page has backlinks.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use vaultc::build::{build, BuildOptions};
use vaultc::discover::SourceFile;
use vaultc::render::html::{note_body, BodyContext};
use vaultc::render::theme::Theme;
use vaultc::resolve::{resolve_link, FragmentTarget, LinkTarget, ResolveOptions};
use vaultc::source::VaultPath;
use vaultc::vault::NoteId;
use vaultc::{compile, CompileOptions};

/// Notes in the generated vault besides the benchmarked one.
const NOTES: usize = 50;

/// Path of the benchmarked note inside the generated vault.
const NOTE_PATH: &str = "Bench Note.md";

/// The benchmarked note: every construct a real note has, 3.4 KB.
fn bench_note() -> String {
    r#"---
title: Bench Note
aliases:
  - Benchmark note
  - The one note
tags:
  - bench
  - type/reference
description: "One realistic note for the parse, resolve and render micro-benchmarks."
date: 2026-11-23
related: "[[Topic 07]]"
status: draft
---

# Bench Note

This note stands for a typical page of a research vault. It links to [[Topic 01]], to
[[Topic 02|the second topic]], to a heading with [[Topic 03#Details]] and to a block with
[[Topic 04#^b04]]. Nested folders resolve too: [[notes/Topic 05]]. #bench #reading/queue

## Background

Vision-language models learn from images and text together. Some embed pictures and captions
in one shared space, so a sentence can retrieve an image; others plug an image encoder into a
large language model and answer free-form questions about a picture. See
[[Topic 06#Overview|the overview]] and the [markdown link](notes/Topic%2008.md#Details). ^bg

- contrastive pretraining, as in [[Topic 09]]
- masked modelling, see [[Topic 10#Details#Notes]]
- generative captioning
  - with a frozen language model
  - with cross-attention layers
- [ ] read [[Missing Paper]] again
- [x] summarise [[Topic 11|eleven]]

1. Collect pairs.
2. Filter them (see [[#Method]]).
3. Train, then evaluate on [[#^results]].

## Method

> [!note] Why one note?
> A single page isolates the per-note cost from discovery and the site-wide pages.
> It still links to [[Topic 12]] from inside the callout.

| model | params | score | notes |
|---|---:|---:|---|
| [[Topic 13]] | 400M | 76.2 | dual encoder |
| [[Topic 14\|fourteen]] | 80B | 82.1 | fusion |
| baseline | 1B | 70.0 | plain text, `code` too |

^results

```python
def score(model, data):
    # [[not a link]] inside code
    return sum(model(x) == y for x, y in data) / len(data)
```

Inline math $a^2 + b^2 = c^2$ and a footnote[^1] close the section. %% a hidden [[comment link]] %%

### Embeds

![[Topic 15]]

![[Topic 16#Overview]]

![[Topic 17#^b17]]

![[diagram.png]]

![[diagram.png|200]]

## Results

The numbers above come from [[Topic 18]] and [[topic 19]] (lower case on purpose).
Readers who want more can follow [[Topic 20#Nowhere]] (a missing heading). #results ^summary

## Discussion

Most of a real note is prose. *Contrastive* objectives need **large batches**: every other pair
in the batch is a negative, so the batch size sets how hard the task is. Masked objectives are
cheaper per step but learn slower, and generative objectives tie the image encoder to a
language model whose tokenizer decides what can be said about a picture at all. Papers compare
them on `zero-shot` classification, retrieval, captioning and visual question answering, but
the numbers are rarely comparable: data, compute and evaluation prompts all differ.

> Benchmarks measure what is easy to measure. A model that scores well on retrieval may still
> miscount objects, confuse left and right, or describe things that are not in the picture.

Open questions, roughly in the order they matter:

- **Data.** How much of the gain comes from more pairs, and how much from cleaner ones?
- **Scale.** Do the families converge at scale, or keep their different strengths?
- **Evaluation.** Which benchmarks still separate models, and which are saturated?
  - retrieval at 1k candidates is nearly solved
  - compositional reasoning is not
- **Cost.** What does a point of accuracy cost in training and in serving?

[^1]: The footnote text, with a link to [[Topic 21]].
"#
    .to_string()
}

/// A filler note with the headings and block id the benchmarked note points at.
fn topic_note(i: usize) -> String {
    let mut s = format!(
        "---\ntags: [topic, group/{}]\naliases: [T{i:02}]\n---\n\n# Topic {i:02}\n\n## Overview\n\n",
        i % 5
    );
    s.push_str("A short overview paragraph with some words in it, like most notes have.\n\n");
    if i % 5 == 0 {
        s.push_str("As [[Bench Note]] says, one note is enough to measure.\n\n");
    }
    let _ = write!(
        s,
        "## Details\n\n### Notes\n\nDetails of topic {i}, linking [[Topic {:02}]]. ^b{i:02}\n",
        (i + 1) % NOTES + 1
    );
    s
}

/// Writes the generated vault into `dir`.
fn write_vault(dir: &Path) {
    std::fs::write(dir.join(NOTE_PATH), bench_note()).unwrap();
    std::fs::create_dir_all(dir.join("notes")).unwrap();
    for i in 1..=NOTES {
        std::fs::write(
            dir.join("notes").join(format!("Topic {i:02}.md")),
            topic_note(i),
        )
        .unwrap();
    }
    std::fs::create_dir_all(dir.join("attachments")).unwrap();
    std::fs::write(dir.join("attachments/diagram.png"), b"\x89PNG\r\n\x1a\n").unwrap();
}

fn one_note(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    write_vault(dir.path());
    let comp = compile(dir.path(), &CompileOptions::default()).unwrap();
    let id = NoteId(
        comp.vault
            .notes
            .iter()
            .position(|n| n.path.as_str() == NOTE_PATH)
            .expect("the bench note was compiled") as u32,
    );
    let note = comp.vault.note(id);
    // The note exercises what it claims: every link but two resolves, to notes, headings,
    // blocks and an attachment; one is wanted, one names a missing heading.
    let resolved = &comp.resolution.links[id.0 as usize];
    let count = |f: fn(&LinkTarget) -> bool| resolved.iter().filter(|r| f(&r.target)).count();
    let (missing, attachments, headings, blocks, bad_fragments) = (
        count(|t| matches!(t, LinkTarget::Missing { .. })),
        count(|t| matches!(t, LinkTarget::Attachment(_))),
        count(|t| {
            matches!(
                t,
                LinkTarget::Note {
                    fragment: FragmentTarget::Heading(_),
                    ..
                }
            )
        }),
        count(|t| {
            matches!(
                t,
                LinkTarget::Note {
                    fragment: FragmentTarget::Block(_),
                    ..
                }
            )
        }),
        count(|t| {
            matches!(
                t,
                LinkTarget::Note {
                    fragment: FragmentTarget::Missing,
                    ..
                }
            )
        }),
    );
    eprintln!(
        "bench note: {} bytes, {} links ({attachments} to attachments, {headings} to headings, \
         {blocks} to blocks, {missing} wanted, {bad_fragments} missing fragment), {} backlinks",
        note.text.len(),
        note.links.len(),
        comp.graph.backlinks(id).count(),
    );
    assert_eq!((note.links.len(), missing, bad_fragments), (26, 1, 1));
    let theme = Theme::load(None).unwrap();
    let text = bench_note();

    c.bench_function("parse/one_note", |b| {
        b.iter_batched(
            || SourceFile {
                path: VaultPath::new(NOTE_PATH).unwrap(),
                text: text.clone(),
                is_template: false,
            },
            |file| vaultc::parse::note(black_box(file)),
            BatchSize::SmallInput,
        )
    });

    let options = ResolveOptions::default();
    c.bench_function("resolve/one_note", |b| {
        b.iter(|| {
            black_box(&note.links)
                .iter()
                .map(|link| resolve_link(&comp.vault, &comp.resolution.index, id, link, options))
                .collect::<Vec<_>>()
        })
    });

    let page = comp.site.note_page(id).unwrap();
    let ctx = BodyContext::new(&comp, &comp.site, page, Some(id));
    c.bench_function("render/note_body", |b| {
        b.iter(|| note_body(black_box(&ctx), id))
    });
    let meta = vaultc::render::SiteMeta {
        title: "bench".into(),
        language: "en".into(),
        strings: vaultc::render::strings::UiStrings::english(),
        stylesheet: None,
        url: None,
    };
    c.bench_function("render/one_note", |b| {
        b.iter(|| vaultc::render::render_note_page(black_box(&comp), &theme, &meta, id).unwrap())
    });
}

fn demo_vault(c: &mut Criterion) {
    let vault = Path::new(env!("CARGO_MANIFEST_DIR")).join("vault");
    let mut check = c.benchmark_group("check");
    check.sample_size(20);
    check.bench_function("demo_vault", |b| {
        b.iter(|| compile(black_box(&vault), &CompileOptions::default()).unwrap())
    });
    check.finish();
    let mut build_group = c.benchmark_group("build");
    build_group.sample_size(20);
    build_group.bench_function("demo_vault", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            |out| {
                let report = build(
                    &vault,
                    &BuildOptions {
                        output: out.path().join("site"),
                        ..BuildOptions::default()
                    },
                )
                .unwrap();
                (out, report) // dropped (and deleted) outside the measurement
            },
            BatchSize::PerIteration,
        )
    });
    build_group.finish();
}

criterion_group!(benches, one_note, demo_vault);
criterion_main!(benches);

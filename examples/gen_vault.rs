//! Deterministic synthetic Obsidian vault generator for vaultc scale tests.
//!
//! ```text
//! cargo run --release --example gen_vault -- --notes N --seed S --out DIR [--force] [--threads T] [--avg-kb K]
//! ```
//!
//! Same `--notes`, `--seed` (and `--avg-kb`) give byte-identical vaults on any machine: all
//! randomness comes from a hand-written xoshiro256** seeded per note through splitmix64, no
//! floating point is used in generation, and no hash-map iteration order reaches the output.
//! The thread count does not change the output (each note is generated from its own stream).
//!
//! What the vault exercises (see shared/design/obsidian-semantics.md §1-4):
//! nested folders (depth 1-4, ~sqrt(N)/2 folders), names with spaces, ~3% CJK names, ~0.5%
//! deliberately duplicated names (ambiguous links), YAML front matter (title, date, tags incl.
//! nested, aliases, `related: "[[X]]"`), ATX and setext headings, paragraphs, lists, task lists,
//! fenced code (with fake links inside), tables (with `\|` links), callouts, quotes, footnotes,
//! math, `%% comments %%`, inline `#tags`, block ids (` ^b12` and `^id` after a list), ~10 links
//! per note with Zipf-like popularity (hubs), every link form: `[[N]]`, `[[N|l]]`, `[[dir/N]]`,
//! `[[./N]]`, `[[../d/N]]`, `[[N.md]]`, case variants, `[[N#H]]`, `[[N#H2#H3]]`, `[[N#^b]]`,
//! `[[#Own]]`, `[[#^own]]`, `![[N]]`, `![[N#H]]`, `![[N#^b]]` (embed chains never longer than 1),
//! `![[img-3.png|200]]`, `![[img.png|100x145]]`, `[t](N%20X.md#H%20Y)`, `[t](<N X.md>)`, plus
//! ~3% broken links (missing notes, alias-only targets) and ~1% links to missing headings/blocks.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

// ---------------------------------------------------------------------------------------------
// PRNG: splitmix64 for seeding, xoshiro256** for streams.

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Rng {
    s: [u64; 4],
}

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng { s }
    }

    /// An independent stream for (seed, purpose, index).
    fn stream(seed: u64, purpose: u64, index: u64) -> Rng {
        let mut a = seed ^ 0x243F_6A88_85A3_08D3;
        let h1 = splitmix64(&mut a);
        let mut b = h1 ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let h2 = splitmix64(&mut b);
        let mut c = h2 ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03);
        Rng::new(splitmix64(&mut c))
    }

    fn next(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in 0..n (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }

    fn below_usize(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform in lo..=hi.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    fn pick<'a, T: ?Sized>(&mut self, xs: &'a [&'a T]) -> &'a T {
        xs[self.below_usize(xs.len())]
    }
}

// Stream purposes.
const S_FOLDERS: u64 = 1;
const S_NAMES: u64 = 2;
const S_PERM: u64 = 3;
const S_PLAN: u64 = 4;
const S_BODY: u64 = 5;
const S_VOCAB: u64 = 6;

// ---------------------------------------------------------------------------------------------
// Word lists (fixed; part of the format: changing them changes every vault).

const NAME_WORDS: &[&str] = &[
    "abstract",
    "acoustic",
    "adaptive",
    "agent",
    "algebra",
    "anchor",
    "archive",
    "arrow",
    "atlas",
    "atom",
    "attention",
    "audit",
    "autumn",
    "balance",
    "basin",
    "beacon",
    "bias",
    "binary",
    "biology",
    "bloom",
    "border",
    "bridge",
    "buffer",
    "cache",
    "calculus",
    "canvas",
    "carbon",
    "cascade",
    "catalyst",
    "cell",
    "channel",
    "chaos",
    "chapter",
    "circuit",
    "city",
    "climate",
    "cloud",
    "cluster",
    "code",
    "cognition",
    "compass",
    "compiler",
    "concept",
    "context",
    "contract",
    "coral",
    "cortex",
    "crystal",
    "culture",
    "current",
    "curve",
    "cycle",
    "data",
    "decision",
    "delta",
    "design",
    "diagram",
    "dialogue",
    "digital",
    "distance",
    "domain",
    "dream",
    "drift",
    "echo",
    "ecology",
    "economy",
    "edge",
    "effect",
    "element",
    "embedding",
    "energy",
    "engine",
    "entropy",
    "equation",
    "essay",
    "ethics",
    "event",
    "evolution",
    "field",
    "filter",
    "flow",
    "focus",
    "forest",
    "format",
    "fractal",
    "frame",
    "frontier",
    "function",
    "galaxy",
    "garden",
    "gene",
    "geometry",
    "glacier",
    "gradient",
    "grammar",
    "graph",
    "gravity",
    "habit",
    "harbor",
    "harmony",
    "heuristic",
    "history",
    "horizon",
    "hypothesis",
    "image",
    "index",
    "inference",
    "insight",
    "interface",
    "island",
    "journal",
    "kernel",
    "lattice",
    "layer",
    "ledger",
    "lens",
    "library",
    "light",
    "linear",
    "logic",
    "loop",
    "machine",
    "map",
    "market",
    "matrix",
    "memory",
    "meridian",
    "method",
    "metric",
    "migration",
    "mirror",
    "model",
    "module",
    "momentum",
    "motion",
    "mountain",
    "music",
    "narrative",
    "network",
    "neuron",
    "noise",
    "ocean",
    "optics",
    "orbit",
    "order",
    "origin",
    "paradox",
    "pattern",
    "philosophy",
    "pipeline",
    "planet",
    "poetry",
    "policy",
    "portal",
    "practice",
    "prism",
    "protocol",
    "quantum",
    "query",
    "question",
    "radius",
    "reading",
    "reason",
    "recursion",
    "reflex",
    "region",
    "replica",
    "research",
    "river",
    "robot",
    "runtime",
    "sample",
    "scale",
    "schema",
    "science",
    "season",
    "signal",
    "sketch",
    "socket",
    "solar",
    "spectrum",
    "spiral",
    "stack",
    "statistics",
    "story",
    "stream",
    "structure",
    "summit",
    "symbol",
    "syntax",
    "system",
    "tensor",
    "theory",
    "thread",
    "tide",
    "timeline",
    "token",
    "topology",
    "trace",
    "transformer",
    "tree",
    "tundra",
    "type",
    "valley",
    "vector",
    "velocity",
    "vision",
    "vocabulary",
    "volcano",
    "wave",
    "weather",
    "window",
    "winter",
    "workflow",
    "zenith",
    "café",
    "naïve",
    "résumé",
    "über",
    "façade",
];

const CJK_WORDS: &[&str] = &[
    "视觉", "模型", "学习", "数据", "网络", "系统", "设计", "笔记", "算法", "语言", "结构", "分析",
    "历史", "哲学", "经济", "音乐", "文学", "物理", "化学", "生物", "数学", "城市", "旅行", "健康",
    "计划", "项目", "会议", "读书", "思考", "方法", "理论", "实验", "工具", "代码", "编译", "链接",
    "图谱", "知识", "记忆", "时间",
];

const HEAD_SINGLE: &[&str] = &[
    "Overview",
    "Background",
    "Summary",
    "Motivation",
    "Context",
    "Details",
    "Examples",
    "Notes",
    "References",
    "Questions",
    "Ideas",
    "Goals",
    "Methods",
    "Results",
    "Discussion",
    "Timeline",
    "Glossary",
    "Setup",
    "Usage",
    "Pitfalls",
    "Alternatives",
    "Criticism",
    "History",
    "Implementation",
    "Evaluation",
    "Takeaways",
    "Sources",
    "Tasks",
    "Log",
    "Decisions",
];
const HEAD_ADJ: &[&str] = &[
    "Key",
    "Open",
    "Early",
    "Main",
    "Related",
    "Further",
    "Practical",
    "Common",
    "Advanced",
    "Basic",
    "Recent",
    "Future",
    "Known",
    "Core",
    "Hidden",
    "Minor",
    "Major",
    "Final",
    "First",
    "Second",
];
const HEAD_NOUN: &[&str] = &[
    "Ideas",
    "Questions",
    "Results",
    "Work",
    "Reading",
    "Steps",
    "Concepts",
    "Examples",
    "Problems",
    "Patterns",
    "Trade-offs",
    "Findings",
    "Details",
    "Notes",
    "Terms",
    "Metrics",
    "Risks",
    "Options",
    "Sources",
    "Thoughts",
];
const HEAD_TOPIC: &[&str] = &[
    "Linux", "Windows", "Theory", "Practice", "Scope", "Status", "Part One", "Part Two", "Draft",
    "Review",
];
const CJK_HEAD: &[&str] = &[
    "概述",
    "背景",
    "主要观点",
    "实验结果",
    "参考资料",
    "开放问题",
    "方法",
    "总结",
    "例子",
    "讨论",
    "历史",
    "术语",
    "下一步",
];
const TAGS: &[&str] = &[
    "project/alpha",
    "project/beta",
    "project/gamma",
    "area/research",
    "area/writing",
    "area/health",
    "status/draft",
    "status/done",
    "status/review",
    "reading",
    "idea",
    "todo",
    "meeting",
    "journal",
    "reference",
    "review",
    "rust",
    "ml/vision",
    "ml/nlp",
    "math",
    "history",
    "笔记",
    "研究/视觉",
    "evergreen",
    "seedling",
];
const CALLOUTS: &[&str] = &[
    "note", "tip", "warning", "info", "example", "quote", "todo", "abstract",
];
const LANGS: &[&str] = &["rust", "python", "bash", "js", "text", "yaml"];

const N_IMAGES: usize = 12;

// Size multipliers (percent of the average); mean is exactly 100.
const SIZE_MULT: &[u64] = &[25, 40, 55, 70, 80, 90, 100, 110, 125, 140, 160, 205];
// Target bytes of body text per 1 KB of requested average, tuned so that the written notes
// (front matter, markup, links included) average ~avg_kb KB.
const BODY_PER_KB: u64 = 696;

// ---------------------------------------------------------------------------------------------
// The world: everything every note needs to know about every other note.

struct World {
    n: usize,
    seed: u64,
    avg_kb: u64,
    folders: Vec<String>,
    folder_of: Vec<u32>,
    names: Vec<String>,
    lower_names: HashSet<String>, // membership only, never iterated
    ambiguous: Vec<bool>,
    members: Vec<Vec<u32>>,
    zipf_cdf: Vec<u64>,
    zipf_perm: Vec<u32>,
    vocab: Vec<String>,
}

struct Heading {
    level: u8,
    text: String,
    frag: String, // the text used in links (normalised like Obsidian's autocompletion)
    parent: Option<usize>,
}

struct Plan {
    size: u64,
    headings: Vec<Heading>,
    blocks: Vec<String>,
    list_block: Option<String>,
    has_embed: bool,
    alias: Option<String>,
    moc: bool,
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn isqrt(n: usize) -> usize {
    let mut x = (n as f64).sqrt() as usize; // fixed up below: exact on every machine
    while x * x > n {
        x -= 1;
    }
    while (x + 1) * (x + 1) <= n {
        x += 1;
    }
    x
}

fn build_vocab() -> Vec<String> {
    const ONSET: &[&str] = &[
        "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br",
        "ch", "cl", "dr", "fl", "gr", "pl", "pr", "sh", "st", "th", "tr", "qu", "", "",
    ];
    const VOWEL: &[&str] = &[
        "a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ou", "y",
    ];
    const CODA: &[&str] = &[
        "", "", "", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "x",
    ];
    let mut rng = Rng::stream(0x5EE_D0F7_0CAB, S_VOCAB, 0);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    while out.len() < 3000 {
        let syl = [1, 1, 2, 2, 2, 3][rng.below_usize(6)];
        let mut w = String::new();
        for _ in 0..syl {
            w.push_str(rng.pick(ONSET));
            w.push_str(rng.pick(VOWEL));
            w.push_str(rng.pick(CODA));
        }
        if seen.insert(w.clone()) {
            out.push(w);
        }
    }
    out
}

impl World {
    fn build(n: usize, seed: u64, avg_kb: u64) -> World {
        // Folders: ~sqrt(N)/2, depth 1..=4.
        let f = (isqrt(n) / 2).max(1);
        let top = (isqrt(f) + 1).min(f);
        let mut rng = Rng::stream(seed, S_FOLDERS, 0);
        let mut folders: Vec<String> = Vec::with_capacity(f);
        let mut depth: Vec<u32> = Vec::with_capacity(f);
        let mut children: Vec<u32> = Vec::with_capacity(f);
        for t in 0..top {
            let name = if t > 0 && rng.chance(120) {
                format!(
                    "{} {} {}",
                    capitalize(rng.pick(NAME_WORDS)),
                    rng.pick(NAME_WORDS),
                    t + 1
                )
            } else {
                format!("topic-{}", t + 1)
            };
            folders.push(name);
            depth.push(1);
            children.push(0);
        }
        while folders.len() < f {
            let p = rng.below_usize(folders.len());
            if depth[p] >= 4 {
                continue;
            }
            children[p] += 1;
            let name = format!("{}/sub-{}", folders[p], children[p]);
            folders.push(name);
            depth.push(depth[p] + 1);
            children.push(0);
        }

        // Names, folder assignment, deliberate duplicates.
        let mut rng = Rng::stream(seed, S_NAMES, 0);
        let mut names: Vec<String> = Vec::with_capacity(n);
        let mut folder_of: Vec<u32> = Vec::with_capacity(n);
        let mut ambiguous = vec![false; n];
        let mut lower_names: HashSet<String> = HashSet::with_capacity(n);
        for i in 0..n {
            let mut fo = rng.below(f as u64) as u32;
            if i >= 10 && f > 1 && rng.chance(5) {
                let j = rng.below_usize(i);
                if !ambiguous[j] {
                    if fo == folder_of[j] {
                        fo = (fo + 1) % f as u32;
                    }
                    ambiguous[i] = true;
                    ambiguous[j] = true;
                    names.push(names[j].clone());
                    folder_of.push(fo);
                    continue;
                }
            }
            let base = if rng.chance(30) {
                format!(
                    "{}{} {}",
                    rng.pick(CJK_WORDS),
                    rng.pick(CJK_WORDS),
                    rng.range(1, 99)
                )
            } else {
                let words = [1, 2, 2, 2, 3, 3, 1, 2][rng.below_usize(8)];
                let title_case = rng.chance(500);
                let mut s = capitalize(rng.pick(NAME_WORDS));
                for _ in 1..words {
                    s.push(' ');
                    let w = rng.pick(NAME_WORDS);
                    if title_case {
                        s.push_str(&capitalize(w));
                    } else {
                        s.push_str(w);
                    }
                }
                if rng.chance(80) {
                    s.push_str(&format!(" {}", rng.range(2, 20)));
                }
                s
            };
            let mut name = base.clone();
            let mut tries = 0;
            while !lower_names.insert(name.to_lowercase()) {
                tries += 1;
                name = if tries < 6 {
                    format!("{} {}", base, rng.range(2, 999))
                } else {
                    format!("{} {}", base, i)
                };
            }
            names.push(name);
            folder_of.push(fo);
        }

        let mut members: Vec<Vec<u32>> = vec![Vec::new(); f];
        for (i, &fo) in folder_of.iter().enumerate() {
            members[fo as usize].push(i as u32);
        }

        // Zipf(s=1) popularity over a random permutation of the notes, in integers only.
        let mut zipf_cdf = Vec::with_capacity(n);
        let mut acc: u64 = 0;
        for r in 0..n as u64 {
            acc += (1u64 << 40) / (r + 1);
            zipf_cdf.push(acc);
        }
        let mut zipf_perm: Vec<u32> = (0..n as u32).collect();
        let mut rng = Rng::stream(seed, S_PERM, 0);
        for k in (1..n).rev() {
            let j = rng.below_usize(k + 1);
            zipf_perm.swap(k, j);
        }

        World {
            n,
            seed,
            avg_kb,
            folders,
            folder_of,
            names,
            lower_names,
            ambiguous,
            members,
            zipf_cdf,
            zipf_perm,
            vocab: build_vocab(),
        }
    }

    fn folder(&self, i: usize) -> &str {
        &self.folders[self.folder_of[i] as usize]
    }

    fn zipf(&self, rng: &mut Rng) -> usize {
        let total = *self.zipf_cdf.last().unwrap();
        let u = rng.below(total);
        let r = self.zipf_cdf.partition_point(|&c| c <= u);
        self.zipf_perm[r.min(self.n - 1)] as usize
    }

    /// A link target for note i: same folder, popular (Zipf) or uniform.
    fn target(&self, i: usize, rng: &mut Rng) -> usize {
        loop {
            let r = rng.below(100);
            let j = if r < 20 {
                let m = &self.members[self.folder_of[i] as usize];
                m[rng.below_usize(m.len())] as usize
            } else if r < 65 {
                self.zipf(rng)
            } else {
                rng.below_usize(self.n)
            };
            if j != i {
                return j;
            }
        }
    }

    fn heading_text(&self, rng: &mut Rng, cjk: bool) -> String {
        if cjk && rng.chance(400) {
            return rng.pick(CJK_HEAD).to_string();
        }
        match rng.below(100) {
            0..=34 => rng.pick(HEAD_SINGLE).to_string(),
            35..=79 => format!(
                "{} {}",
                rng.pick(HEAD_ADJ),
                rng.pick(HEAD_NOUN).to_lowercase()
            ),
            80..=91 => format!("{}: {}", rng.pick(HEAD_SINGLE), rng.pick(HEAD_TOPIC)),
            _ => format!("{} {}", rng.pick(HEAD_SINGLE), rng.range(1, 9)),
        }
    }

    /// The structure of note i that other notes may link into. Pure function of (seed, i).
    fn plan(&self, i: usize) -> Plan {
        let mut rng = Rng::stream(self.seed, S_PLAN, i as u64);
        let name = &self.names[i];
        let cjk = name
            .chars()
            .next()
            .is_some_and(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        let size = self.avg_kb * BODY_PER_KB * SIZE_MULT[rng.below_usize(SIZE_MULT.len())] / 100;
        let moc = rng.chance(10);
        let n_h2 = (size / 900).clamp(1, 14) as usize;
        let mut headings: Vec<Heading> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let mut add =
            |rng: &mut Rng, level: u8, parent: Option<usize>, headings: &mut Vec<Heading>| {
                for _ in 0..20 {
                    let text = self.heading_text(rng, cjk);
                    let frag = text.replace(':', "");
                    let key = frag.to_lowercase();
                    if !seen.contains(&key) {
                        seen.push(key);
                        headings.push(Heading {
                            level,
                            text,
                            frag,
                            parent,
                        });
                        return;
                    }
                }
            };
        for _ in 0..n_h2 {
            add(&mut rng, 2, None, &mut headings);
            let h2 = headings.len() - 1;
            if rng.chance(350) {
                for _ in 0..rng.range(1, 2) {
                    add(&mut rng, 3, Some(h2), &mut headings);
                }
            }
        }
        let n_blocks = [0, 0, 1, 1, 2, 3][rng.below_usize(6)];
        let mut blocks: Vec<String> = Vec::new();
        while blocks.len() < n_blocks {
            let id = format!("b{}", rng.range(10, 99));
            if !blocks.contains(&id) {
                blocks.push(id);
            }
        }
        let list_block = if rng.chance(150) {
            Some(format!("list-{}", rng.range(100, 999)))
        } else {
            None
        };
        let has_embed = rng.chance(100);
        let alias = if name.contains(' ') && !cjk && rng.chance(150) {
            Some(name.to_lowercase().replace(' ', "-"))
        } else {
            None
        };
        Plan {
            size,
            headings,
            blocks,
            list_block,
            has_embed,
            alias,
            moc,
        }
    }

    fn word(&self, rng: &mut Rng) -> &str {
        // Skewed towards the start of the vocabulary (roughly harmonic).
        let k = rng.below(self.vocab.len() as u64) + 1;
        &self.vocab[rng.below(k) as usize]
    }

    fn phrase(&self, rng: &mut Rng, lo: u64, hi: u64) -> String {
        let mut s = String::new();
        for k in 0..rng.range(lo, hi) {
            if k > 0 {
                s.push(' ');
            }
            s.push_str(self.word(rng));
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Link text.

fn pct_encode(s: &str, all_non_ascii: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        if ch == ' ' {
            out.push_str("%20");
        } else if all_non_ascii && !ch.is_ascii() {
            let mut buf = [0u8; 4];
            for b in ch.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{:02X}", b));
            }
        } else {
            out.push(ch);
        }
    }
    out
}

fn relative_path(from_dir: &str, to_dir: &str, name: &str) -> String {
    let a: Vec<&str> = from_dir.split('/').collect();
    let b: Vec<&str> = to_dir.split('/').collect();
    let mut common = 0;
    while common < a.len() && common < b.len() && a[common] == b[common] {
        common += 1;
    }
    let mut s = String::new();
    if common == a.len() {
        s.push_str("./");
    }
    for _ in common..a.len() {
        s.push_str("../");
    }
    for part in &b[common..] {
        s.push_str(part);
        s.push('/');
    }
    s.push_str(name);
    s
}

#[derive(Default, Clone, Copy)]
struct Stats {
    bytes: u64,
    links: u64,
    broken: u64,
    bad_fragment: u64,
    embeds: u64,
}

struct NoteGen<'w> {
    w: &'w World,
    i: usize,
    plan: Plan,
    rng: Rng,
    stats: Stats,
    out: String,
    footnotes: Vec<String>,
}

fn wrap(target: &str, label: Option<&str>, in_table: bool) -> String {
    match label {
        Some(l) if in_table => format!("[[{}\\|{}]]", target, l),
        Some(l) => format!("[[{}|{}]]", target, l),
        None => format!("[[{}]]", target),
    }
}

impl<'w> NoteGen<'w> {
    fn label(&mut self) -> String {
        let w = self.w;
        w.phrase(&mut self.rng, 1, 3)
    }

    fn missing_note_name(&mut self) -> String {
        loop {
            let w = self.w;
            let s = format!(
                "{} {}",
                capitalize(w.word(&mut self.rng)),
                w.word(&mut self.rng)
            );
            if !w.lower_names.contains(&s.to_lowercase()) {
                return s;
            }
        }
    }

    /// Bare name or, for duplicated names, often the full folder path.
    fn name_ref(&mut self, j: usize) -> String {
        let w = self.w;
        if w.ambiguous[j] && self.rng.chance(600) {
            format!("{}/{}", w.folder(j), w.names[j])
        } else {
            w.names[j].clone()
        }
    }

    /// For links with a fragment: always unambiguous, so the fragment is checked against the
    /// intended note (a bare ambiguous name may resolve to the other copy).
    fn name_ref_frag(&mut self, j: usize) -> String {
        let w = self.w;
        if w.ambiguous[j] {
            format!("{}/{}", w.folder(j), w.names[j])
        } else {
            w.names[j].clone()
        }
    }

    fn md_link(&mut self, j: usize, frag: Option<&str>) -> String {
        let w = self.w;
        let name = &w.names[j];
        let path = if w.ambiguous[j] || self.rng.chance(300) {
            format!("{}/{}.md", w.folder(j), name)
        } else {
            format!("{}.md", name)
        };
        let text = self.label();
        if self.rng.chance(100) {
            match frag {
                Some(f) => format!("[{}](<{}#{}>)", text, path, f),
                None => format!("[{}](<{}>)", text, path),
            }
        } else {
            let all = !name.is_ascii() && self.rng.chance(300);
            let mut s = format!("[{}]({}", text, pct_encode(&path, all));
            if let Some(f) = frag {
                s.push('#');
                s.push_str(&pct_encode(f, false));
            }
            s.push(')');
            s
        }
    }

    /// One link in running text (or in a table cell).
    fn link(&mut self, in_table: bool) -> String {
        let w = self.w;
        self.stats.links += 1;
        let r = self.rng.below(1000);
        match r {
            0..=29 => {
                self.stats.broken += 1;
                match self.rng.below(100) {
                    0..=54 => {
                        let t = self.missing_note_name();
                        wrap(&t, None, in_table)
                    }
                    55..=79 => {
                        // alias-only target: unresolved in Obsidian (semantics §3)
                        for _ in 0..8 {
                            let j = w.target(self.i, &mut self.rng);
                            if let Some(a) = w.plan(j).alias {
                                return wrap(&a, None, in_table);
                            }
                        }
                        let t = self.missing_note_name();
                        wrap(&t, None, in_table)
                    }
                    _ => {
                        let t = self.missing_note_name();
                        format!("[{}]({}.md)", self.label(), pct_encode(&t, false))
                    }
                }
            }
            30..=39 => {
                self.stats.bad_fragment += 1;
                let j = w.target(self.i, &mut self.rng);
                let p = w.plan(j);
                let nref = self.name_ref_frag(j);
                if self.rng.chance(250) {
                    return wrap(
                        &format!("{}#^zz{}", nref, self.rng.range(10, 99)),
                        None,
                        in_table,
                    );
                }
                loop {
                    let f = format!(
                        "{} {}",
                        capitalize(w.word(&mut self.rng)),
                        w.word(&mut self.rng)
                    );
                    let lf = f.to_lowercase();
                    if !p.headings.iter().any(|h| h.frag.to_lowercase() == lf) {
                        return wrap(&format!("{}#{}", nref, f), None, in_table);
                    }
                }
            }
            40..=139 => self.heading_link(in_table),
            140..=184 => {
                for _ in 0..6 {
                    let j = w.target(self.i, &mut self.rng);
                    let p = w.plan(j);
                    let mut ids = p.blocks.clone();
                    if let Some(l) = &p.list_block {
                        ids.push(l.clone());
                    }
                    if ids.is_empty() {
                        continue;
                    }
                    let id = ids[self.rng.below_usize(ids.len())].clone();
                    let t = format!("{}#^{}", self.name_ref_frag(j), id);
                    let label = if self.rng.chance(200) {
                        Some(self.label())
                    } else {
                        None
                    };
                    return wrap(&t, label.as_deref(), in_table);
                }
                self.heading_link(in_table)
            }
            185..=224 => {
                let own_blocks = self.plan.blocks.len();
                if own_blocks > 0 && self.rng.chance(150) {
                    let id = self.plan.blocks[self.rng.below_usize(own_blocks)].clone();
                    wrap(&format!("#^{}", id), None, in_table)
                } else {
                    let k = self.rng.below_usize(self.plan.headings.len());
                    let f = self.plan.headings[k].frag.clone();
                    wrap(&format!("#{}", f), None, in_table)
                }
            }
            225..=314 => {
                let j = w.target(self.i, &mut self.rng);
                let frag = if self.rng.chance(200) {
                    let p = w.plan(j);
                    Some(
                        p.headings[self.rng.below_usize(p.headings.len())]
                            .frag
                            .clone(),
                    )
                } else {
                    None
                };
                self.md_link(j, frag.as_deref())
            }
            315..=384 => {
                let j = w.target(self.i, &mut self.rng);
                let folder = w.folder(j);
                let t = if self.rng.chance(700) {
                    format!("{}/{}", folder, w.names[j])
                } else {
                    let last = folder.rsplit('/').next().unwrap();
                    format!("{}/{}", last, w.names[j])
                };
                wrap(&t, None, in_table)
            }
            385..=494 => {
                let j = w.target(self.i, &mut self.rng);
                let t = self.name_ref(j);
                let l = if self.rng.chance(200) {
                    w.names[j].to_lowercase()
                } else {
                    self.label()
                };
                wrap(&t, Some(&l), in_table)
            }
            495..=504 => {
                let j = w.target(self.i, &mut self.rng);
                let t = relative_path(w.folder(self.i), w.folder(j), &w.names[j]);
                wrap(&t, None, in_table)
            }
            505..=514 => {
                let j = w.target(self.i, &mut self.rng);
                let t = format!("{}.md", self.name_ref(j));
                wrap(&t, None, in_table)
            }
            515..=534 => {
                let j = w.target(self.i, &mut self.rng);
                let t = if self.rng.chance(800) {
                    w.names[j].to_lowercase()
                } else {
                    w.names[j].to_uppercase()
                };
                let t = if w.ambiguous[j] {
                    format!("{}/{}", w.folder(j), t)
                } else {
                    t
                };
                wrap(&t, None, in_table)
            }
            _ => {
                let j = w.target(self.i, &mut self.rng);
                let t = self.name_ref(j);
                wrap(&t, None, in_table)
            }
        }
    }

    fn heading_link(&mut self, in_table: bool) -> String {
        let w = self.w;
        let j = w.target(self.i, &mut self.rng);
        let p = w.plan(j);
        let k = self.rng.below_usize(p.headings.len());
        let h = &p.headings[k];
        let mut frag = match h.parent {
            Some(par) if self.rng.chance(150) => format!("{}#{}", p.headings[par].frag, h.frag),
            _ => h.frag.clone(),
        };
        if self.rng.chance(100) {
            frag = frag.to_lowercase();
        }
        let t = format!("{}#{}", self.name_ref_frag(j), frag);
        let label = if self.rng.chance(200) {
            Some(self.label())
        } else {
            None
        };
        wrap(&t, label.as_deref(), in_table)
    }

    // ---- body text ----

    fn sentence(&mut self, link_slots: &mut LinkBudget, min: u64, max: u64, in_table: bool) {
        let w = self.w;
        let n = self.rng.range(min, max);
        let link_at = if link_slots.take(&mut self.rng, self.out.len() as u64) {
            Some(self.rng.below(n))
        } else {
            None
        };
        for k in 0..n {
            if k > 0 {
                self.out.push(' ');
            }
            if link_at == Some(k) {
                let l = self.link(in_table);
                self.out.push_str(&l);
                continue;
            }
            let word = w.word(&mut self.rng);
            let deco = self.rng.below(1000);
            match deco {
                _ if k == 0 => self.out.push_str(&capitalize(word)),
                0..=14 => {
                    self.out.push_str("**");
                    self.out.push_str(word);
                    self.out.push_str("**");
                }
                15..=29 => {
                    self.out.push('*');
                    self.out.push_str(word);
                    self.out.push('*');
                }
                30..=39 => {
                    self.out.push('`');
                    self.out.push_str(word);
                    self.out.push_str("()`");
                }
                40..=52 if !in_table => {
                    self.out.push('#');
                    self.out.push_str(self.rng.pick(TAGS));
                }
                53..=54 if !in_table => {
                    self.out
                        .push_str(&format!("[{}](https://example.com/{})", word, word));
                }
                55 => self.out.push_str("~~old~~"),
                56 if !in_table => self.out.push_str("$x^2 + y^2$"),
                57 if !in_table => {
                    let k = self.footnotes.len() + 1;
                    self.out.push_str(word);
                    self.out.push_str(&format!("[^{}]", k));
                    let note = w.phrase(&mut self.rng, 4, 10);
                    self.footnotes.push(note);
                }
                58 => self.out.push_str("`[[not a link]]`"),
                59 if !in_table => self.out.push_str("#1984"),
                _ => self.out.push_str(word),
            }
        }
        self.out.push('.');
    }

    fn paragraph(&mut self, lb: &mut LinkBudget, block: Option<String>) {
        for s in 0..self.rng.range(2, 6) {
            if s > 0 {
                self.out.push(' ');
            }
            self.sentence(lb, 6, 16, false);
        }
        if let Some(id) = block {
            self.out.push_str(" ^");
            self.out.push_str(&id);
        }
        self.out.push_str("\n\n");
    }

    fn list(&mut self, lb: &mut LinkBudget, task: bool) {
        let ordered = !task && self.rng.chance(250);
        let n = self.rng.range(2, 7);
        for k in 0..n {
            let nested = k > 0 && self.rng.chance(200);
            if nested {
                self.out.push_str("    ");
            }
            if task {
                self.out.push_str(if self.rng.chance(400) {
                    "- [x] "
                } else {
                    "- [ ] "
                });
            } else if ordered && !nested {
                self.out.push_str(&format!("{}. ", k + 1));
            } else {
                self.out.push_str("- ");
            }
            self.sentence(lb, 3, 10, false);
            self.out.push('\n');
        }
        self.out.push('\n');
    }

    fn code(&mut self) {
        let w = self.w;
        let lang = self.rng.pick(LANGS);
        self.out.push_str("```");
        self.out.push_str(lang);
        self.out.push('\n');
        for _ in 0..self.rng.range(3, 12) {
            match self.rng.below(10) {
                0 => self.out.push_str("// see [[Not A Link]] and #not-a-tag\n"),
                1..=4 => {
                    let (a, b) = (w.word(&mut self.rng), w.word(&mut self.rng));
                    self.out
                        .push_str(&format!("let {} = {}({});\n", a, b, self.rng.below(1000)));
                }
                5..=7 => {
                    let a = w.word(&mut self.rng);
                    self.out.push_str(&format!(
                        "fn {}() -> u32 {{ {} }}\n",
                        a,
                        self.rng.below(100)
                    ));
                }
                _ => {
                    let p = w.phrase(&mut self.rng, 2, 6);
                    self.out.push_str(&format!("    # {}\n", p));
                }
            }
        }
        self.out.push_str("```\n\n");
    }

    fn table(&mut self, lb: &mut LinkBudget) {
        let w = self.w;
        self.out
            .push_str("| Item | Value | Notes |\n| --- | ---: | --- |\n");
        for _ in 0..self.rng.range(2, 6) {
            let item = w.word(&mut self.rng).to_string();
            let v = self.rng.below(10_000);
            self.out.push_str(&format!("| {} | {} | ", item, v));
            self.sentence(lb, 2, 6, true);
            self.out.push_str(" |\n");
        }
        self.out.push('\n');
    }

    fn callout(&mut self, lb: &mut LinkBudget) {
        let w = self.w;
        let kind = self.rng.pick(CALLOUTS);
        let fold = ["", "", "-", "+"][self.rng.below_usize(4)];
        let title = capitalize(&w.phrase(&mut self.rng, 1, 4));
        self.out
            .push_str(&format!("> [!{}]{} {}\n", kind, fold, title));
        for _ in 0..self.rng.range(1, 3) {
            self.out.push_str("> ");
            self.sentence(lb, 6, 14, false);
            self.out.push('\n');
        }
        self.out.push('\n');
    }

    fn quote(&mut self, lb: &mut LinkBudget) {
        self.out.push_str("> ");
        self.sentence(lb, 8, 20, false);
        self.out.push_str("\n\n");
    }

    fn note_embed(&mut self) {
        let w = self.w;
        // Only embed notes that embed nothing: chains never exceed one level.
        for _ in 0..20 {
            let j = w.target(self.i, &mut self.rng);
            let p = w.plan(j);
            if p.has_embed {
                continue;
            }
            let nref = self.name_ref_frag(j);
            let t = match self.rng.below(10) {
                0..=6 => nref,
                7..=8 => format!(
                    "{}#{}",
                    nref,
                    p.headings[self.rng.below_usize(p.headings.len())].frag
                ),
                _ => match p.blocks.first() {
                    Some(b) => format!("{}#^{}", nref, b),
                    None => nref,
                },
            };
            self.out.push_str(&format!("![[{}]]\n\n", t));
            self.stats.links += 1;
            self.stats.embeds += 1;
            return;
        }
    }

    fn image_embed(&mut self) {
        let k = self.rng.range(1, N_IMAGES as u64);
        let s = match self.rng.below(10) {
            0..=4 => format!(
                "![[img-{}.png|{}]]",
                k,
                [100, 200, 300, 400][self.rng.below_usize(4)]
            ),
            5..=6 => format!("![[img-{}.png]]", k),
            7..=8 => format!("![[img-{}.png|100x145]]", k),
            _ => format!("![diagram](attachments/img-{}.png)", k),
        };
        self.out.push_str(&s);
        self.out.push_str("\n\n");
        self.stats.links += 1;
        self.stats.embeds += 1;
    }

    fn front_matter(&mut self) {
        let w = self.w;
        if self.rng.chance(180) {
            return;
        }
        self.out.push_str("---\n");
        if self.rng.chance(250) {
            let t = format!("About {}", w.names[self.i]);
            self.out.push_str(&format!("title: \"{}\"\n", t));
        }
        if self.rng.chance(600) {
            self.out.push_str(&format!(
                "date: {}-{:02}-{:02}\n",
                self.rng.range(2019, 2025),
                self.rng.range(1, 12),
                self.rng.range(1, 28)
            ));
        }
        if self.rng.chance(700) {
            let n = self.rng.range(1, 4);
            let mut tags: Vec<&str> = Vec::new();
            while (tags.len() as u64) < n {
                let t = self.rng.pick(TAGS);
                if !tags.contains(&t) {
                    tags.push(t);
                }
            }
            if self.rng.chance(100) {
                self.out.push_str(&format!("tags: [{}]\n", tags.join(", ")));
            } else {
                self.out.push_str("tags:\n");
                for t in tags {
                    self.out.push_str(&format!("  - {}\n", t));
                }
            }
        }
        if let Some(a) = self.plan.alias.clone() {
            self.out.push_str(&format!("aliases:\n  - {}\n", a));
        }
        if self.rng.chance(250) {
            let n = if self.rng.chance(300) {
                self.rng.range(2, 3)
            } else {
                1
            };
            let mut items = Vec::new();
            for _ in 0..n {
                let j = w.target(self.i, &mut self.rng);
                let t = self.name_ref(j);
                items.push(format!("\"[[{}]]\"", t));
                self.stats.links += 1;
            }
            if n == 1 {
                self.out.push_str(&format!("related: {}\n", items[0]));
            } else {
                self.out.push_str("related:\n");
                for it in items {
                    self.out.push_str(&format!("  - {}\n", it));
                }
            }
        }
        if self.rng.chance(30) {
            self.out.push_str("cssclasses:\n  - wide\n");
        }
        self.out.push_str("---\n");
    }

    fn generate(&mut self) {
        let w = self.w;
        self.front_matter();
        self.out.push_str("# ");
        self.out.push_str(&w.names[self.i]);
        self.out.push_str("\n\n");

        let n_links = if self.plan.moc {
            self.rng.range(40, 80)
        } else {
            self.rng.range(3, 14)
        };
        let size = self.plan.size;
        let mut lb = LinkBudget {
            left: n_links,
            size,
        };

        let sections = self.plan.headings.len() + 1;
        let budget = size / sections as u64;
        // Where the special elements go.
        let mut specials: Vec<Vec<u8>> = vec![Vec::new(); sections];
        let mut place = |rng: &mut Rng, kind: u8, per_mille: u64| {
            if rng.chance(per_mille) {
                let s = rng.below_usize(sections);
                specials[s].push(kind);
            }
        };
        place(&mut self.rng, b'c', 650);
        place(&mut self.rng, b't', 550);
        place(&mut self.rng, b'o', 250);
        place(&mut self.rng, b'k', 450);
        place(&mut self.rng, b'q', 150);
        place(&mut self.rng, b'i', 300);
        place(&mut self.rng, b'i', 60);
        place(&mut self.rng, b'm', 60);
        place(&mut self.rng, b'%', 20);
        place(
            &mut self.rng,
            b'e',
            if self.plan.has_embed { 1000 } else { 0 },
        );
        let mut block_queue: Vec<Vec<String>> = vec![Vec::new(); sections];
        for (k, b) in self.plan.blocks.iter().enumerate() {
            block_queue[k % sections].push(b.clone());
        }

        for s in 0..sections {
            let start = self.out.len() as u64;
            if s > 0 {
                let h = &self.plan.headings[s - 1];
                if h.level == 2 && self.rng.chance(50) {
                    self.out.push_str(&format!(
                        "{}\n{}\n\n",
                        h.text,
                        "-".repeat(h.text.len().min(12))
                    ));
                } else {
                    self.out
                        .push_str(&format!("{} {}\n\n", "#".repeat(h.level as usize), h.text));
                }
            }
            let mut queue = std::mem::take(&mut block_queue[s]);
            queue.reverse();
            self.paragraph(&mut lb, queue.pop());
            for kind in std::mem::take(&mut specials[s]) {
                match kind {
                    b'c' => self.code(),
                    b't' => self.table(&mut lb),
                    b'o' => self.callout(&mut lb),
                    b'k' => self.list(&mut lb, true),
                    b'q' => self.quote(&mut lb),
                    b'i' => self.image_embed(),
                    b'e' => self.note_embed(),
                    b'm' => self
                        .out
                        .push_str("$$\n\\sum_{i=1}^{n} x_i = \\int_0^1 f(t)\\,dt\n$$\n\n"),
                    b'%' => self
                        .out
                        .push_str("%% private: [[Hidden Draft]] is not a link here %%\n\n"),
                    _ => {}
                }
            }
            if s == sections - 1 {
                if let Some(id) = self.plan.list_block.clone() {
                    self.list(&mut lb, false);
                    self.out.push_str(&format!("^{}\n\n", id));
                }
            }
            while !queue.is_empty() || (self.out.len() as u64) < start + budget {
                if self.rng.chance(780) || !queue.is_empty() {
                    self.paragraph(&mut lb, queue.pop());
                } else {
                    self.list(&mut lb, false);
                }
            }
        }
        if lb.left > 0 {
            self.out.push_str("See also:");
            while lb.left > 0 {
                lb.left -= 1;
                self.out.push(' ');
                let l = self.link(false);
                self.out.push_str(&l);
            }
            self.out.push_str("\n\n");
        }
        if !self.footnotes.is_empty() {
            for (k, f) in std::mem::take(&mut self.footnotes).iter().enumerate() {
                self.out.push_str(&format!("[^{}]: {}\n", k + 1, f));
            }
        }
        while self.out.ends_with("\n\n") {
            self.out.pop();
        }
    }
}

/// Spreads a note's links over its sentences.
struct LinkBudget {
    left: u64,
    size: u64,
}

impl LinkBudget {
    fn take(&mut self, rng: &mut Rng, written: u64) -> bool {
        if self.left == 0 {
            return false;
        }
        let slots = self.size.saturating_sub(written) / 110 + 1;
        if rng.below(slots) < self.left {
            self.left -= 1;
            true
        } else {
            false
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tiny valid PNGs (8x8 RGB, stored deflate).

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png(k: usize) -> Vec<u8> {
    let (wd, ht) = (8u32, 8u32);
    let mut raw = Vec::new();
    for y in 0..ht {
        raw.push(0u8);
        for x in 0..wd {
            raw.push((k as u32 * 20 + x * 16) as u8);
            raw.push((y * 30) as u8);
            raw.push((255 - k as u32 * 17) as u8);
        }
    }
    let mut z = vec![0x78, 0x01, 0x01];
    let len = raw.len() as u16;
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&(!len).to_le_bytes());
    z.extend_from_slice(&raw);
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());

    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut chunk = |ty: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut c = ty.to_vec();
        c.extend_from_slice(data);
        out.extend_from_slice(&c);
        out.extend_from_slice(&crc32(&c).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&wd.to_be_bytes());
    ihdr.extend_from_slice(&ht.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &z);
    chunk(b"IEND", &[]);
    out
}

// ---------------------------------------------------------------------------------------------

fn usage() -> ! {
    eprintln!("usage: gen_vault --notes N --seed S --out DIR [--force] [--threads T] [--avg-kb K]");
    std::process::exit(2);
}

fn main() {
    let mut notes: Option<usize> = None;
    let mut seed: u64 = 1;
    let mut out: Option<PathBuf> = None;
    let mut force = false;
    let mut threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let mut avg_kb: u64 = 5;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--notes" => notes = Some(val().replace('_', "").parse().unwrap_or_else(|_| usage())),
            "--seed" => seed = val().parse().unwrap_or_else(|_| usage()),
            "--out" => out = Some(PathBuf::from(val())),
            "--threads" => threads = val().parse().unwrap_or_else(|_| usage()),
            "--avg-kb" => avg_kb = val().parse().unwrap_or_else(|_| usage()),
            "--force" => force = true,
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    let (Some(n), Some(out)) = (notes, out) else {
        usage()
    };
    if n < 10 {
        eprintln!("gen_vault: --notes must be at least 10");
        std::process::exit(2);
    }
    let threads = threads.max(1);

    if out.exists()
        && fs::read_dir(&out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        if !force {
            eprintln!(
                "gen_vault: {} exists and is not empty (use --force to replace it)",
                out.display()
            );
            std::process::exit(2);
        }
        fs::remove_dir_all(&out).expect("remove old output");
    }

    let t0 = Instant::now();
    let world = World::build(n, seed, avg_kb);

    fs::create_dir_all(&out).expect("create output dir");
    for f in &world.folders {
        fs::create_dir_all(out.join(f)).expect("create folder");
    }
    let mut extra_bytes = 0u64;
    fs::create_dir_all(out.join("attachments")).unwrap();
    for k in 1..=N_IMAGES {
        let data = png(k);
        extra_bytes += data.len() as u64;
        fs::write(out.join("attachments").join(format!("img-{}.png", k)), data).unwrap();
    }
    fs::create_dir_all(out.join(".obsidian")).unwrap();
    fs::write(
        out.join(".obsidian/app.json"),
        "{\n  \"userIgnoreFilters\": []\n}\n",
    )
    .unwrap();

    let stats: Vec<Stats> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let world = &world;
                let out: &Path = &out;
                scope.spawn(move || {
                    let mut total = Stats::default();
                    let mut buf = String::with_capacity(64 * 1024);
                    let mut i = t;
                    while i < world.n {
                        let mut g = NoteGen {
                            w: world,
                            i,
                            plan: world.plan(i),
                            rng: Rng::stream(world.seed, S_BODY, i as u64),
                            stats: Stats::default(),
                            out: std::mem::take(&mut buf),
                            footnotes: Vec::new(),
                        };
                        g.out.clear();
                        g.generate();
                        g.out.push('\n');
                        let path = out
                            .join(world.folder(i))
                            .join(format!("{}.md", world.names[i]));
                        let f = File::create(&path)
                            .unwrap_or_else(|e| panic!("create {}: {}", path.display(), e));
                        let mut bw = BufWriter::with_capacity(16 * 1024, f);
                        bw.write_all(g.out.as_bytes()).unwrap();
                        bw.flush().unwrap();
                        total.bytes += g.out.len() as u64;
                        total.links += g.stats.links;
                        total.broken += g.stats.broken;
                        total.bad_fragment += g.stats.bad_fragment;
                        total.embeds += g.stats.embeds;
                        buf = g.out;
                        i += threads;
                    }
                    total
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker panicked"))
            .collect()
    });
    let mut s = Stats::default();
    for x in stats {
        s.bytes += x.bytes;
        s.links += x.links;
        s.broken += x.broken;
        s.bad_fragment += x.bad_fragment;
        s.embeds += x.embeds;
    }
    let secs = t0.elapsed().as_secs_f64();
    let dups = world.ambiguous.iter().filter(|&&a| a).count();
    println!(
        "gen_vault: notes={} folders={} dup_names={} bytes={} ({:.1} MB, avg {:.1} KB/note) attachments={} links={} (broken={} bad_fragment={} embeds={}) seconds={:.2} out={}",
        n,
        world.folders.len(),
        dups,
        s.bytes + extra_bytes,
        (s.bytes + extra_bytes) as f64 / 1e6,
        s.bytes as f64 / n as f64 / 1000.0,
        N_IMAGES,
        s.links,
        s.broken,
        s.bad_fragment,
        s.embeds,
        secs,
        out.display()
    );
}

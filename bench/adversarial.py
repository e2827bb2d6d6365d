#!/usr/bin/env python3
"""vaultc on adversarial vaults: does any input make it superlinear?

Each case is a vault built to stress one place where a naive compiler does work per pair
(a heading repeated thousands of times, thousands of links into one long note, one permalink
shared by thousands of notes, thousands of diagnostics on one long line, ...). Each is made
at two sizes, N and 4N, and timed with `vaultc check` (and `vaultc build` where the site is
where the work is). A linear tool takes about 4x as long at 4N; the table prints the ratio and
marks anything above 8x as superlinear.

    python3 bench/adversarial.py                 # N = 5000
    python3 bench/adversarial.py --runs 2 --strict  # what CI runs

Exit status: 0, or 1 with --strict when a case is superlinear or a run fails.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))


def write(vault, rel, text):
    path = os.path.join(vault, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def repeated_headings(vault, n):
    """One note with n identical headings (anchors `notes`, `notes-2`, ...)."""
    write(vault, "Long.md", "## Notes\n\ntext\n\n" * n)
    write(vault, "Link.md", "[[Long#Notes]]\n")


def links_into_a_long_note(vault, n):
    """A note of n/2 headings and n/2 block ids, and 10 notes linking to each of them."""
    half = n // 2
    write(vault, "Big.md", "".join("## Heading %d\n\ntext ^b%d\n\n" % (i, i) for i in range(half)))
    for k in range(10):
        write(vault, "L%d.md" % k,
              "".join("[[Big#Heading %d]] [[Big#^b%d]]\n" % (i, i) for i in range(half)))


def shared_permalink(vault, n):
    """n notes whose front matter (a template's) asks for the same permalink."""
    for i in range(n):
        write(vault, "posts/p%d.md" % i, "---\npermalink: /posts/\n---\n# Post %d\n" % i)


def diagnostics_on_one_line(vault, n):
    """One line holding n links to a block that does not exist (n warnings on that line)."""
    write(vault, "Deep.md", "# Deep\n")
    write(vault, "Line.md", "# Line\n\n" + "word [[Deep#^nope]] " * n + "\n")


def one_hub(vault, n):
    """n notes linking to one hub: its page lists n backlinks with their context."""
    write(vault, "Hub.md", "# Hub\n")
    for i in range(n):
        write(vault, "n/%d/Note %d.md" % (i % 50, i), "# Note %d\n\nSee [[Hub]] for more.\n" % i)


def embeds_of_a_long_section(vault, n):
    """A note of n/10 sections, and n/10 notes each embedding one of them."""
    m = max(n // 10, 1)
    write(vault, "Book.md", "".join("## Part %d\n\nwords of part %d\n\n" % (i, i) for i in range(m)))
    for i in range(m):
        write(vault, "e/E%d.md" % i, "![[Book#Part %d]]\n" % i)


def many_aliases(vault, n):
    """One note with n aliases (a redirect page each), and a note using each."""
    write(vault, "Many.md", "---\naliases:\n" + "".join("  - Name %d\n" % i for i in range(n)) + "---\n# Many\n")
    write(vault, "Uses.md", "".join("[[Many|Name %d]]\n" % i for i in range(n)))


def wide_table(vault, n):
    """A table row of n cells, each a link with an escaped pipe."""
    cells = " | ".join("[[Target\\|c%d]]" % i for i in range(n))
    write(vault, "Table.md", "| %s |\n|%s\n| %s |\n" % ("h | " * (n - 1) + "h", "---|" * n, cells))
    write(vault, "Target.md", "# Target\n")


def many_tags(vault, n):
    """One note carrying n nested tags (a tag page each, every one listing that note)."""
    write(vault, "Tagged.md", " ".join("#p%d/t%d" % (i % 50, i) for i in range(n)) + "\n")


def embed_loop(vault, n):
    """n/10 notes embedding each other in one loop (a warning each, naming the loop)."""
    m = max(2, n // 10)
    for i in range(m):
        write(vault, "n%d.md" % i, "# N%d\n![[n%d]]\n" % (i, (i + 1) % m))


def block_list(vault, n):
    """A list of n items, each with a block id, and a note embedding every tenth."""
    write(vault, "List.md", "".join("- item %d ^b%d\n" % (i, i) for i in range(n)))
    write(vault, "Uses.md", "".join("![[List#^b%d]]\n" % i for i in range(0, n, 10)))


def property_links(vault, n):
    """Front matter of n properties, each a link."""
    write(vault, "Props.md", "---\n" + "".join('k%d: "[[n%d]]"\n' % (i, i) for i in range(n)) + "---\n")


def folder_notes(vault, n):
    """An `index.md` in each of N/10 folders, a note beside each linking [[index]] (its
    sibling wins), and a root note linking [[index]] N/10 times (every one ambiguous)."""
    m = max(n // 10, 2)
    for i in range(m):
        write(vault, "f%d/index.md" % i, "# Index %d\n" % i)
        write(vault, "f%d/a.md" % i, "[[index]]\n")
    write(vault, "Root.md", "[[index]]\n" * m)


def broken_fragments(vault, n):
    """A note of n headings and n block ids, and n links to headings and blocks it lacks."""
    write(vault, "Big.md", "".join("## Heading %d\n\ntext ^b%d\n\n" % (i, i) for i in range(n)))
    write(vault, "Links.md",
          "".join("[[Big#Missing %d]] [[Big#^nope%d]]\n" % (i, i) for i in range(n)))


def long_names(vault, n):
    """A missing target, a missing fragment, a heading and a tag of 20 N characters each."""
    word = "".join("abcdefghij"[(i * 7) % 10] for i in range(20 * n))
    write(vault, "Big.md", "# %s\n\ntext\n" % word)
    write(vault, "Links.md", "[[%s]] [[Big#%sz]] #%s\n" % (word, word[:-1], word))


def one_letter_names(vault, n):
    """A dictionary: n/2 notes named by one CJK character and n/2 by "ab" and one, and links
    to as many characters not written yet (names one letter apart share a deletion)."""
    half = n // 2
    # Letters only (CJK ideographs and Hangul syllables): 85,630 of them, enough for N = 80,000.
    ranges = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0xAC00, 0xD7A3), (0x20000, 0x2A6DF),
              (0x2A700, 0x2B739)]
    letters = [chr(c) for lo, hi in ranges for c in range(lo, hi + 1)][:2 * half]
    for c in letters[:half]:
        write(vault, "%s.md" % c, "x\n")
        write(vault, "ab%s.md" % c, "x\n")
    write(vault, "Links.md", "".join("[[%s]] [[ab%s]]\n" % (c, c) for c in letters[half:]))


def formulas_marks_and_html(vault, n):
    """One paragraph of n formulas, n highlights and n raw HTML tags (each formula rendered
    to MathML, each tag read by the HTML sanitiser), and a formula nested n/10 braces deep."""
    write(vault, "Mixed.md", "".join("$x_%d^2$ ==m%d== <b onclick=x>t</b> " % (i, i) for i in range(n))
          + "\n\n$" + "{" * (n // 10) + "y" + "}" * (n // 10) + "$\n")


def nested_quotes(vault, n):
    """One line of 5 n nested quotes (`>>>>...`): a quote starts at every `>`."""
    write(vault, "Quotes.md", ">" * (5 * n) + " deep [[Other]]\n")
    write(vault, "Other.md", "![[Quotes]]\n")


def case_twins(vault, n):
    """n attachments, each with a twin whose name differs only in letter case."""
    for i in range(n):
        write(vault, "Img%d.png" % i, "a")
        write(vault, "img%d.png" % i, "b")
    write(vault, "Note.md", "x\n")


def many_symlinks(vault, n):
    """n symlinks to folders out of the vault, and n/2 more to the same folders (ignored)."""
    outside = os.path.join(os.path.dirname(vault), "outside")
    shutil.rmtree(outside, ignore_errors=True)
    for i in range(n):
        folder = os.path.join(outside, "d%d" % i)
        write(folder, "n.md", "# n\n")
        os.symlink(folder, os.path.join(vault, "l%d" % i))
        if i % 2 == 0:
            os.symlink(folder, os.path.join(vault, "m%d" % i))


def many_excluded(vault, n):
    """n notes, and Obsidian excluded-files settings of n prefixes and n/10 patterns."""
    for i in range(n):
        write(vault, "n%d/Note.md" % i, "x\n")
    entries = ["folder%d/" % i for i in range(n)] + ["/x%d\\d+y/" % i for i in range(n // 10)]
    write(vault, ".obsidian/app.json", json.dumps({"userIgnoreFilters": entries}))


def cascading_fixes(vault, n):
    """n notes, each with an alias and an escaped link to the next note's alias: a dry run
    of `--fix` makes two passes (unescape, then link the note) over a scratch copy."""
    for i in range(n):
        write(vault, "d%d/Note %d.md" % (i % 100, i),
              "---\naliases: [al %d]\n---\nsee \\[\\[al %d]] here\n" % (i, (i + 1) % n))


CASES = [
    ("a heading repeated N times", repeated_headings, "check"),
    ("10 N links into one note of N headings and blocks", links_into_a_long_note, "check"),
    ("N notes sharing one permalink", shared_permalink, "check"),
    ("N diagnostics on one line (human format)", diagnostics_on_one_line, "check"),
    ("N notes linking to one hub", one_hub, "build"),
    ("N/10 embeds of sections of one note", embeds_of_a_long_section, "build"),
    ("N aliases of one note", many_aliases, "build"),
    ("a table row of N linked cells", wide_table, "build"),
    ("N/10 folders with an index.md, linked by name", folder_notes, "check"),
    ("one note of N tags", many_tags, "build"),
    ("a loop of N/10 embeds", embed_loop, "check"),
    ("a list of N block ids, every tenth embedded", block_list, "build"),
    ("front matter of N property links", property_links, "check"),
    ("N broken fragments into a note of N headings", broken_fragments, "check"),
    ("a target, fragment, heading and tag of 20 N chars", long_names, "build"),
    ("N one-letter names and N links to other letters", one_letter_names, "check"),
    ("a line of 5 N nested quotes", nested_quotes, "build"),
    ("N attachments and N letter-case twins", case_twins, "check"),
    ("N symlinks out of the vault and N/2 overlapping ones", many_symlinks, "check"),
    ("N notes, N excluded-files prefixes and N/10 patterns", many_excluded, "check"),
    ("N escaped links to aliases, a dry run of two fix passes", cascading_fixes, "fix-dry-run"),
    ("N formulas, highlights and HTML tags in one paragraph", formulas_marks_and_html, "build"),
]


def timed(cmd, env, runs, timeout):
    """Best wall time of `runs` runs; None and the error when a run fails."""
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        try:
            p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, "timed out after %d s" % timeout
        wall = time.perf_counter() - start
        if p.returncode not in (0, 1):
            return None, "exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")[-300:])
        best = wall if best is None else min(best, wall)
    return best, None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5000, help="the smaller size N (the larger is 4N)")
    ap.add_argument("--runs", type=int, default=3, help="runs per measurement (best is kept)")
    ap.add_argument("--vaultc", default=None, help="vaultc binary (default: target/release/vaultc, built)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds before one run is killed")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a case is superlinear or fails")
    args = ap.parse_args()

    root = os.path.dirname(BENCH_DIR)
    vaultc = args.vaultc
    if vaultc is None:
        subprocess.run(["cargo", "build", "--release", "--bin", "vaultc"], cwd=root, check=True)
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
        vaultc = os.path.join(target, "release", "vaultc")
    env = dict(os.environ, NO_COLOR="1", RAYON_NUM_THREADS=os.environ.get("RAYON_NUM_THREADS", "2"))
    # In memory when the machine has a tmpfs: a disk's writeback makes build times jump.
    shm = "/dev/shm"
    on_shm = os.path.isdir(shm) and os.access(shm, os.W_OK)
    work = tempfile.mkdtemp(prefix="vaultc-adversarial-", dir=shm if on_shm else None)
    env["VAULTC_CACHE_DIR"] = os.path.join(work, "cache")
    # A dry run's scratch copy beside the vault, on the same file system.
    env["TMPDIR"] = work
    rows = []
    bad = False
    try:
        for name, make, command in CASES:
            times = []
            error = None
            for n in (args.n, 4 * args.n):
                vault = os.path.join(work, "vault")
                site = os.path.join(work, "site")
                shutil.rmtree(vault, ignore_errors=True)
                shutil.rmtree(site, ignore_errors=True)
                os.makedirs(vault)
                make(vault, n)
                if command == "check":
                    cmd = [vaultc, "check", vault, "--no-cache"]
                elif command == "fix-dry-run":
                    cmd = [vaultc, "check", vault, "--no-cache", "--fix", "--dry-run"]
                else:
                    cmd = [vaultc, "build", vault, "-o", site, "--full", "--no-cache", "-q"]
                wall, error = timed(cmd, env, args.runs, args.timeout)
                if error:
                    break
                times.append(wall)
            if error:
                rows.append((name, command, None, None, None, "FAILED: " + error))
                bad = True
                continue
            ratio = times[1] / max(times[0], 1e-9)
            # Below 0.2 s the process's fixed costs and the machine's hiccups dominate, and the
            # ratio says little.
            verdict = "superlinear" if ratio > 8 and times[1] > 0.2 else "linear"
            bad |= verdict != "linear"
            rows.append((name, command, times[0], times[1], ratio, verdict))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    n = args.n
    print()
    print("vaultc on adversarial vaults: N = %d, %d threads, best of %d" %
          (n, int(env["RAYON_NUM_THREADS"]), args.runs))
    print()
    print("| case | command | N | 4N | 4N / N | |")
    print("|---|---|---|---|---|---|")
    for name, command, small, large, ratio, verdict in rows:
        if small is None:
            print("| %s | %s | | | | %s |" % (name, command, verdict))
        else:
            print("| %s | %s | %.3f s | %.3f s | %.1fx | %s |" % (name, command, small, large, ratio, verdict))
    print()
    print("A linear tool takes about 4x as long at 4N (less when fixed costs dominate).")
    return 1 if (bad and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())

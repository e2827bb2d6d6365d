#!/usr/bin/env python3
"""vaultc scale benchmark: vaultc check/build vs. the pulldown-cmark floor vs. Hugo.

    python3 bench/run.py [--sizes 1000,10000,100000] [--threads 2] [--keep] [--seed 1]

Stdlib only. See bench/README.md for what is measured and how to read the table.
"""

import argparse
import contextlib
import hashlib
import json
import os
import queue
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))

HUGO_CONFIG = """\
baseURL = "http://localhost/"
title = "vaultc bench"
languageCode = "en"
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
disableAliases = true
enableGitInfo = false
[markup.goldmark.renderer]
unsafe = true
[markup.goldmark.extensions]
table = true
strikethrough = true
taskList = true
footnote = true
linkify = false
"""

HUGO_SINGLE = """\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><main><h1>{{ .Title }}</h1>{{ .Content }}</main></body></html>
"""

HUGO_LIST = """\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><main><h1>{{ .Title }}</h1>{{ .Content }}
<ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>
</main></body></html>
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(cmd, cwd=None, check=True):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and p.returncode != 0:
        log(p.stdout[-4000:])
        raise SystemExit("command failed (exit %d): %s" % (p.returncode, " ".join(cmd)))
    return p


# ---------------------------------------------------------------------------------------------
# Machine


def machine_info():
    info = {"nproc": os.cpu_count()}
    try:
        info["nproc_available"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    info["cpu"] = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["mem_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    info["kernel"] = platform.release()
    for tool, args in (("rustc", ["--version"]), ("hugo", ["version"])):
        exe = shutil.which(tool)
        if exe:
            out = subprocess.run([exe] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            info[tool] = out.stdout.strip().splitlines()[0] if out.stdout.strip() else "?"
    return info


# ---------------------------------------------------------------------------------------------
# Measuring one command: wall time and peak RSS of a fresh child process.


class Result:
    def __init__(self, wall=None, rss_kb=None, code=None, error=None, stdout=""):
        self.wall = wall
        self.rss_kb = rss_kb
        self.code = code
        self.error = error
        self.stdout = stdout


def run_once(cmd, env, ok_codes, timeout, cwd=None):
    out_path = os.path.join(BENCH_TMP, "last-stdout.txt")
    err_path = os.path.join(BENCH_TMP, "last-stderr.txt")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        try:
            p = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=err, start_new_session=True)
        except OSError as e:
            return Result(error="cannot run: %s" % e)
        timer = threading.Timer(timeout, lambda: os.killpg(p.pid, signal.SIGKILL))
        timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path, errors="replace") as f:
        stdout = f.read()
    code = p.returncode
    if code not in ok_codes:
        with open(err_path, errors="replace") as f:
            tail = f.read()[-1500:]
        if code < 0:
            why = "killed by signal %d%s" % (-code, " (timeout %ds)" % timeout if -code == 9 else "")
        else:
            why = "exit %d" % code
        return Result(code=code, error=why, stdout=stdout + tail)
    return Result(wall=wall, rss_kb=ru.ru_maxrss, code=code, stdout=stdout)


def measure(name, cmd, env, runs, ok_codes=(0,), prep=None, timeout=3600, cwd=None):
    """Best wall time of `runs` runs; peak RSS is the maximum over the runs."""
    best = None
    peak = 0
    for k in range(runs):
        if prep:
            prep()
        # Flush dirty pages (the previous run's output, its deletion, a fresh vault) so no run
        # pays for another's writeback. The measured run itself is not synced, like any tool.
        os.sync()
        r = run_once(cmd, env, ok_codes, timeout, cwd=cwd)
        if r.error:
            log("  %-22s run %d: FAILED (%s)\n%s" % (name, k + 1, r.error, indent(r.stdout[-1500:])))
            return r
        log("  %-22s run %d: %.3f s, %.0f MB" % (name, k + 1, r.wall, r.rss_kb / 1024))
        peak = max(peak, r.rss_kb)
        if best is None or r.wall < best.wall:
            best = r
    best.rss_kb = peak
    return best


def indent(s):
    return "\n".join("      | " + l for l in s.strip().splitlines()[-15:])


# ---------------------------------------------------------------------------------------------
# Vaults


def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def ensure_vault(gen, gen_src, cache, n, seed):
    path = os.path.join(cache, "n%d-s%d" % (n, seed))
    stamp = path + ".stamp"
    want = json.dumps({"gen_vault.rs": file_sha(gen_src), "notes": n, "seed": seed})
    if os.path.isdir(path) and os.path.exists(stamp):
        with open(stamp) as f:
            if f.read() == want:
                log("vault %s: cached" % path)
                return path, None
        log("vault %s: generator changed, regenerating" % path)
    tmp = path + ".tmp"
    for p in (tmp, path):
        if os.path.exists(p):
            shutil.rmtree(p)
    if os.path.exists(stamp):
        os.remove(stamp)
    t0 = time.perf_counter()
    p = sh([gen, "--notes", str(n), "--seed", str(seed), "--out", tmp])
    secs = time.perf_counter() - t0
    os.rename(tmp, path)
    with open(stamp, "w") as f:
        f.write(want)
    log(p.stdout.strip())
    return path, (secs, p.stdout.strip())


def vault_stats(vault):
    """Count notes and bytes; reading every file also warms the page cache for all tools."""
    notes = 0
    total = 0
    for dp, dns, fns in os.walk(vault):
        dns[:] = [d for d in dns if not d.startswith(".")]
        for fn in fns:
            if fn.startswith("."):
                continue
            with open(os.path.join(dp, fn), "rb") as f:
                total += len(f.read())
            if fn.endswith(".md"):
                notes += 1
    return notes, total


def rmtree(p):
    if os.path.exists(p):
        shutil.rmtree(p)


def hugo_site(vault, site):
    """A Hugo site around a hard-linked copy of the vault's markdown and attachments."""
    stamp = os.path.join(site, ".bench-source")
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read() == vault:
                return site
    rmtree(site)
    os.makedirs(os.path.join(site, "layouts", "_default"))
    with open(os.path.join(site, "hugo.toml"), "w") as f:
        f.write(HUGO_CONFIG)
    with open(os.path.join(site, "layouts", "_default", "single.html"), "w") as f:
        f.write(HUGO_SINGLE)
    with open(os.path.join(site, "layouts", "_default", "list.html"), "w") as f:
        f.write(HUGO_LIST)

    def link_or_copy(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(vault, os.path.join(site, "content"), copy_function=link_or_copy,
                    ignore=lambda d, names: [n for n in names if n.startswith(".")])
    with open(stamp, "w") as f:
        f.write(vault)
    return site


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,100000", help="comma-separated note counts")
    ap.add_argument("--threads", type=int, default=2, help="RAYON_NUM_THREADS / GOMAXPROCS for every tool")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=None,
                    help="runs per measurement (default: best of 3; from 100k notes up, best of 2, "
                         "and 1 for Hugo)")
    ap.add_argument("--keep", action="store_true", help="keep the built sites (target/bench-out, target/bench-hugo)")
    ap.add_argument("--no-hugo", action="store_true", help="skip Hugo even when installed")
    ap.add_argument("--vaultc", default=None, help="vaultc binary (default: the one cargo builds)")
    ap.add_argument("--root", default=os.path.dirname(BENCH_DIR), help="cargo package root")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds before one run is killed")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 when any measurement failed (CI uses this; skipped tools do not count)")
    ap.add_argument("--json", default=None, help="also write the results as JSON to this file")
    ap.add_argument("--out", default=None,
                    help="folder for every tool's output (default: target/bench-out); e.g. a tmpfs "
                         "such as /dev/shm/vaultc-bench to take the disk's writeback out of the timings")
    args = ap.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    root = os.path.abspath(args.root)

    info = machine_info()
    print("## Machine\n")
    print("- nproc: %s (available to this process: %s)" % (info.get("nproc"), info.get("nproc_available", "?")))
    print("- cpu: %s" % info.get("cpu"))
    print("- memory: %s GiB" % info.get("mem_gib", "?"))
    print("- kernel: %s; %s; hugo: %s" % (info.get("kernel"), info.get("rustc", "rustc ?"), info.get("hugo", "not installed")))
    print("- threads for every tool: %d (RAYON_NUM_THREADS, GOMAXPROCS%s)" % (
        args.threads, ", taskset" if use_taskset(args.threads) else ""))
    print("- output folder: %s\n" % (args.out or "target/bench-out"))
    sys.stdout.flush()

    # Build.
    meta = json.loads(sh(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=root).stdout)
    target = meta["target_directory"]
    rel = os.path.join(target, "release")
    log("building: cargo build --release --examples")
    p = sh(["cargo", "build", "--release", "--examples"], cwd=root, check=False)
    if p.returncode == 0:
        gen = os.path.join(rel, "examples", "gen_vault")
        floor = os.path.join(rel, "examples", "floor")
    else:
        # The examples need the library to compile. When it does not (work in progress), build
        # the two tools in a side package with the same pinned dependencies.
        log(p.stdout[-2000:])
        log("examples did not build with the package; building gen_vault and floor on their own")
        gen, floor = build_tools_alone(root, target)
    vaultc = args.vaultc
    vaultc_build_error = None
    if vaultc is None:
        log("building: cargo build --release --bin vaultc")
        p = sh(["cargo", "build", "--release", "--bin", "vaultc"], cwd=root, check=False)
        vaultc = os.path.join(rel, "vaultc")
        if p.returncode != 0:
            vaultc_build_error = "build failed"
            log(p.stdout[-3000:])
    if vaultc_build_error is None and not os.path.exists(vaultc):
        vaultc_build_error = "no binary at %s" % vaultc

    global BENCH_TMP
    BENCH_TMP = os.path.join(target, "bench-tmp")
    os.makedirs(BENCH_TMP, exist_ok=True)
    cache = os.path.join(target, "bench-vaults")
    out_root = os.path.abspath(args.out) if args.out else os.path.join(target, "bench-out")
    hugo_root = os.path.join(target, "bench-hugo")
    os.makedirs(cache, exist_ok=True)

    env = dict(os.environ)
    env["RAYON_NUM_THREADS"] = str(args.threads)
    env["GOMAXPROCS"] = str(args.threads)
    pin = ["taskset", "-c", "0-%d" % (args.threads - 1)] if use_taskset(args.threads) else []

    hugo = None if args.no_hugo else shutil.which("hugo")
    if hugo is None and not args.no_hugo:
        print("hugo: not installed (apt-get install hugo to compare)\n")

    rows = []
    gen_lines = []
    for n in sizes:
        # From 100k notes up a run takes seconds to minutes: best of 2, so that no row (and no
        # 100k/10k ratio) hangs on a single run that paid for this machine's first touch of
        # fresh memory, which can double a run's system time. Hugo alone runs once there (over
        # a minute per run; no goal is measured against its 100k row).
        runs = args.runs or (2 if n >= 100_000 else 3)
        hugo_runs = args.runs or (1 if n >= 100_000 else runs)
        vault, gen_info = ensure_vault(gen, os.path.join(root, "examples", "gen_vault.rs"), cache, n, args.seed)
        if gen_info:
            gen_lines.append("- n=%d: generated in %.2f s: %s" % (n, gen_info[0], gen_info[1]))
        notes, nbytes = vault_stats(vault)
        log("size %d: %d notes, %.1f MB; %d run(s) per measurement" % (n, notes, nbytes / 1e6, runs))
        out = os.path.join(out_root, "n%d" % n)

        def row(tool, r, ratio_to=None, ratio_name="", row_runs=None):
            d = {"size": n, "notes": notes, "mb": round(nbytes / 1e6, 1), "tool": tool,
                 "runs": row_runs or runs}
            if r is None:
                d["error"] = "skipped"
            elif r.error:
                d["error"] = r.error
            else:
                d["wall_s"] = r.wall
                d["notes_per_s"] = notes / r.wall if r.wall > 0 else 0
                d["peak_mb"] = r.rss_kb / 1024
                if ratio_to is not None and ratio_to.error is None and ratio_to.wall:
                    d["ratio"] = "%s %.2f" % (ratio_name, r.wall / ratio_to.wall)
            rows.append(d)
            return r

        fp = row("floor parse (read+parse)",
                 measure("floor --no-write", pin + [floor, "--no-write", vault], env, runs, timeout=args.timeout))
        fw_out = out + "-floor"
        fw = row("floor write (read+parse+html+write)",
                 measure("floor", pin + [floor, vault, fw_out], env, runs,
                         prep=lambda: rmtree(fw_out), timeout=args.timeout))

        if vaultc_build_error:
            row("vaultc check", Result(error=vaultc_build_error))
            row("vaultc check, cached", Result(error=vaultc_build_error))
            row("vaultc build", Result(error=vaultc_build_error))
            row("vaultc build, 1 note edited", Result(error=vaultc_build_error))
        else:
            # `check` keeps a parse cache in vaultc's cache folder, here one of the benchmark's
            # own: the first row is a first check (no cache; it writes one), the second a check
            # after it (every note cached).
            check_cache = out + "-check-cache"
            check_env = dict(env, VAULTC_CACHE_DIR=check_cache)
            row("vaultc check", measure("vaultc check", pin + [vaultc, "check", vault], check_env, runs,
                                        ok_codes=(0, 1), prep=lambda: rmtree(check_cache),
                                        timeout=args.timeout), fp, "check/floor-parse")
            row("vaultc check, cached", measure("vaultc check (cached)", pin + [vaultc, "check", vault],
                                                check_env, runs, ok_codes=(0, 1), timeout=args.timeout),
                fp, "check/floor-parse")
            rmtree(check_cache)
            vb_out = out + "-vaultc"
            # The parse cache lives beside the output folder; a full build starts without it.
            vb_cache = os.path.join(os.path.dirname(vb_out), "." + os.path.basename(vb_out) + ".vaultc-cache")

            def cold():
                rmtree(vb_out)
                rmtree(vb_cache)

            vb = row("vaultc build", measure("vaultc build", pin + [vaultc, "build", vault, "-o", vb_out], env,
                                             runs, ok_codes=(0, 1), prep=cold,
                                             timeout=args.timeout), fw, "build/floor-write")
            if vb.error:
                row("vaultc build, 1 note edited", Result(error="full build failed"))
            else:
                row("vaultc build, 1 note edited",
                    incremental(vault, pin + [vaultc, "build", vault, "-o", vb_out], env, runs, args.timeout),
                    vb, "edit/full")
                serve_cmd = pin + [vaultc, "serve", vault, "-o", vb_out, "--port", "0", "-q"]
                row("vaultc serve, 1 note saved", serve_edit(vault, serve_cmd, env, runs, args.timeout),
                    vb, "save/full")
                row("vaultc serve, 1 link added",
                    serve_edit(vault, serve_cmd, env, runs, args.timeout, link=True), vb, "save/full")
                row("vaultc serve, 1 note created",
                    serve_new_note(vault, serve_cmd, env, runs, args.timeout), vb, "save/full")
            if not args.keep:
                cold()
        if not args.keep:
            rmtree(fw_out)

        if hugo:
            site = hugo_site(vault, os.path.join(hugo_root, "n%d" % n))
            h_out = out + "-hugo"
            vb_res = next((r for r in rows if r["size"] == n and r["tool"] == "vaultc build"), {})
            h = measure("hugo", pin + [hugo, "--quiet", "-d", h_out], env, hugo_runs,
                        prep=lambda: rmtree(h_out), timeout=args.timeout, cwd=site)
            row("hugo", h, row_runs=hugo_runs)
            if h.error is None and "wall_s" in vb_res:
                rows[-1]["ratio"] = "hugo/build %.2f" % (h.wall / vb_res["wall_s"])
            if not args.keep:
                rmtree(h_out)
                rmtree(site)

    if gen_lines:
        print("## Vault generation\n")
        print("\n".join(gen_lines) + "\n")
    print_table(rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "threads": args.threads, "seed": args.seed, "rows": rows}, f, indent=2)
    failed = [r for r in rows if r.get("error") not in (None, "skipped")]
    if args.strict and failed:
        raise SystemExit("bench: %d measurement(s) failed: %s" % (
            len(failed), "; ".join("%s at %d notes (%s)" % (r["tool"], r["size"], r["error"]) for r in failed)))
    if not args.keep:
        rmtree(out_root)
        if os.path.isdir(hugo_root) and not os.listdir(hugo_root):
            os.rmdir(hugo_root)


def build_tools_alone(root, target):
    side = os.path.join(target, "bench-tools")
    os.makedirs(os.path.join(side, "src"), exist_ok=True)
    with open(os.path.join(side, "src", "lib.rs"), "w") as f:
        f.write("")
    ex = os.path.join(root, "examples")
    with open(os.path.join(side, "Cargo.toml"), "w") as f:
        f.write(BENCH_TOOLS_TOML % (json.dumps(os.path.join(ex, "gen_vault.rs")),
                                    json.dumps(os.path.join(ex, "floor.rs"))))
    lock = os.path.join(root, "Cargo.lock")
    if os.path.exists(lock) and not os.path.exists(os.path.join(side, "Cargo.lock")):
        shutil.copy(lock, os.path.join(side, "Cargo.lock"))
    sh(["cargo", "build", "--release", "--examples", "--target-dir", os.path.join(side, "target")], cwd=side)
    out = os.path.join(side, "target", "release", "examples")
    return os.path.join(out, "gen_vault"), os.path.join(out, "floor")


BENCH_TOOLS_TOML = """\
[package]
name = "vaultc-bench-tools"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
pulldown-cmark = { version = "0.13", default-features = false, features = ["html"] }
rayon = "1"
walkdir = "2"

[[example]]
name = "gen_vault"
path = %s

[[example]]
name = "floor"
path = %s

[profile.release]
debug = "line-tables-only"
"""


def use_taskset(threads):
    try:
        avail = len(os.sched_getaffinity(0))
    except AttributeError:
        return False
    return threads < avail and shutil.which("taskset") is not None


def pick_note_to_edit(vault):
    """A deterministic ordinary note: the first note (sorted) of the first folder (sorted)."""
    for dp, dns, fns in sorted(os.walk(vault)):
        if os.path.basename(dp).startswith("."):
            continue
        mds = sorted(f for f in fns if f.endswith(".md"))
        if mds:
            return os.path.join(dp, mds[0])
    raise SystemExit("no note in %s" % vault)


@contextlib.contextmanager
def edited_note(vault):
    """The note the edit rows append to; restored afterwards (content and times) so the
    cached vault stays byte-identical to the generator's output."""
    note = pick_note_to_edit(vault)
    with open(note, "rb") as f:
        original = f.read()
    st = os.stat(note)
    try:
        yield note
    finally:
        with open(note, "wb") as f:
            f.write(original)
        os.utime(note, ns=(st.st_atime_ns, st.st_mtime_ns))


def append_line(note, text):
    with open(note, "ab") as f:
        f.write(("\n%s\n" % text).encode())


def incremental(vault, cmd, env, runs, timeout):
    """After a full build (already in the output folder), append one line to one note and
    build again."""
    counter = [0]
    with edited_note(vault) as note:
        def edit():
            counter[0] += 1
            time.sleep(0.01)  # make sure the mtime moves even on coarse-grained file systems
            append_line(note, "Edited by the benchmark, pass %d." % counter[0])

        return measure("vaultc build (edit)", cmd, env, runs, ok_codes=(0, 1), prep=edit, timeout=timeout)


def serve_edit(vault, cmd, env, runs, timeout, link=False):
    """`vaultc serve` on the built site: append one line to one note, and time from the write
    to the server's "built" line (the watcher's latency, its 30 ms debounce and the rebuild;
    open pages reload right after). With `link`, the line links to another note (the concept
    graph changes: the index, the graph view's data and the target's backlinks follow). Best of
    `runs` saves; peak memory is the server's. The note is restored afterwards, as in
    `incremental`."""
    with edited_note(vault) as note:
        if link:
            target = os.path.splitext(os.path.basename(last_note(vault)))[0]
            line = lambda k: "Saved by the benchmark with a link to [[%s]], pass %d." % (target, k)
        else:
            line = lambda k: "Saved by the benchmark, pass %d." % k
        return serve_saves(cmd, env, runs, timeout, lambda k: append_line(note, line(k)),
                           "vaultc serve (save)")


def serve_new_note(vault, cmd, env, runs, timeout):
    """`vaultc serve` on the built site: write a new note (a heading and a link to another
    note) beside the note the edit rows edit, and time from the write to the server's "built"
    line. A new name can change where any link goes, so this is not a tracked rebuild: the
    server builds the vault again from the notes it holds (it walks no folder, resolves again
    only the links the new name can reach, and keeps every unchanged page). Best of `runs`
    notes, each a new one; they are removed once the server is gone."""
    folder = os.path.dirname(pick_note_to_edit(vault))
    target = os.path.splitext(os.path.basename(last_note(vault)))[0]
    created = []

    def add(k):
        path = os.path.join(folder, "Benchmark new note %d.md" % k)
        with open(path, "w", encoding="utf-8") as f:
            f.write("# Benchmark new note %d\n\nA new note linking to [[%s]].\n" % (k, target))
        created.append(path)

    try:
        return serve_saves(cmd, env, runs, timeout, add, "vaultc serve (new note)")
    finally:
        for path in created:
            os.remove(path)


def last_note(vault):
    """The last note of the vault in path order (not the one `pick_note_to_edit` picks)."""
    notes = sorted(os.path.join(d, f) for d, _, fs in os.walk(vault) for f in fs if f.endswith(".md"))
    return notes[-1]


def serve_saves(cmd, env, runs, timeout, act, label):
    try:
        p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    except OSError as e:
        return Result(error="cannot run: %s" % e)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in p.stderr] + [lines.put(None)],
                     daemon=True).start()
    seen = []

    def wait_for(needle):
        deadline = time.perf_counter() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.perf_counter()))
            except queue.Empty:
                return None
            if line is None:
                return None
            seen.append(line)
            if needle in line:
                return line

    try:
        if wait_for("serving ") is None:
            return Result(error="serve did not start", stdout="".join(seen[-20:]))
        best = None
        for k in range(runs):
            time.sleep(0.3)  # let the previous rebuild's events settle
            t0 = time.perf_counter()
            act(k + 1)
            if wait_for("built ") is None:
                return Result(error="no rebuild after a change", stdout="".join(seen[-20:]))
            wall = time.perf_counter() - t0
            log("  %-22s run %d: %.3f s" % (label, k + 1, wall))
            best = wall if best is None else min(best, wall)
        rss_kb = 0
        with open("/proc/%d/status" % p.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    rss_kb = int(line.split()[1])
        return Result(wall=best, rss_kb=rss_kb, code=0)
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def print_table(rows):
    print("## Results\n")
    print("| size | MB | tool | wall s | notes/s | peak MB | ratio |")
    print("|---:|---:|---|---:|---:|---:|---|")
    for r in rows:
        if "error" in r:
            tool = r["tool"].split(" ")[0]
            print("| %d | %.1f | %s | %s: failed (%s) | | | |" % (r["size"], r["mb"], r["tool"], tool, r["error"]))
        else:
            print("| %d | %.1f | %s | %.3f | %.0f | %.0f | %s |" % (
                r["size"], r["mb"], r["tool"], r["wall_s"], r["notes_per_s"], r["peak_mb"], r.get("ratio", "")))
    print()


BENCH_TMP = None

if __name__ == "__main__":
    main()

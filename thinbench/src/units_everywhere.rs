//! One size and duration grammar in every file and flag, checked over all of them: every
//! size, duration and rate that a shipped scenario, plan or gate config writes (and a few
//! fixtures for the keys no shipped file uses) is written again in every other spelling
//! of the same quantity, and the file must read to exactly the same thing; then in the
//! spellings the grammar refuses, and the file must refuse them at that line with the
//! grammar's own message and hint. The command-line flags get the same treatment.
//! `every_key_and_flag_is_covered` fails when a listed key has no file or fixture that
//! writes it; a new key or flag that takes a size or duration needs its row here.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use thinbench_schema::grammar::{format_duration, parse_duration, parse_rate, parse_size};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Q {
    Size,
    Duration,
    Rate,
}

/// A file format: how to read a text (the result's `Debug` form, or its errors), and
/// which keys take which quantity.
struct Format {
    name: &'static str,
    read: fn(&Path, &str) -> Result<String, String>,
    keys: &'static [(&'static str, Q)],
}

fn scenario(p: &Path, t: &str) -> Result<String, String> {
    thinbench_harness::scenario::load_scenario_str(p, t)
        .map(|s| format!("{s:?}"))
        .map_err(|e| e.to_string())
}

fn plan(p: &Path, t: &str) -> Result<String, String> {
    thinbench_planner::load_fleet_str(p, t)
        .map(|f| format!("{f:?}"))
        .map_err(|e| e.to_string())
}

fn gate(p: &Path, t: &str) -> Result<String, String> {
    thinbench_gate::config::parse_config(p, t)
        .map(|c| format!("{c:?}"))
        .map_err(|e| e.to_string())
}

const SCENARIO_KEYS: &[(&str, Q)] = &[
    ("data_size", Q::Size),
    ("metadata_size", Q::Size),
    ("chunk_size", Q::Size),
    ("device_size", Q::Size),
    ("extent_size", Q::Size),
    ("size", Q::Size),
    ("io_size", Q::Size),
    ("bytes", Q::Size),
    ("offset", Q::Size),
    ("span", Q::Size),
    ("region", Q::Size),
    ("grow_by", Q::Size),
    ("files", Q::Size),
    ("log_size", Q::Size),
    ("block_size", Q::Size),
    ("bad", Q::Size),
    ("at:written", Q::Size),
    ("timeout", Q::Duration),
    ("sample_interval", Q::Duration),
    ("no_space_timeout", Q::Duration),
    ("hold", Q::Duration),
    ("runtime", Q::Duration),
    ("retry_interval", Q::Duration),
    ("error_within", Q::Duration),
    ("read", Q::Duration),
    ("write", Q::Duration),
    ("flush", Q::Duration),
    ("up", Q::Duration),
    ("down", Q::Duration),
    ("p50_at_least", Q::Duration),
    ("at:time", Q::Duration),
    ("until:after", Q::Duration),
];

const PLAN_KEYS: &[(&str, Q)] = &[
    ("data_size", Q::Size),
    ("metadata_size", Q::Size),
    ("chunk_size", Q::Size),
    ("max_data_size", Q::Size),
    ("size", Q::Size),
    ("bytes", Q::Size),
    ("offset", Q::Size),
    ("io_size", Q::Size),
    ("span", Q::Size),
    ("duration", Q::Duration),
    ("horizon", Q::Duration),
    ("step", Q::Duration),
    ("every", Q::Duration),
    ("write_rate", Q::Rate),
];

const GATE_KEYS: &[(&str, Q)] = &[("floor", Q::Duration)];

const FORMATS: &[Format] = &[
    Format {
        name: "scenario",
        read: scenario,
        keys: SCENARIO_KEYS,
    },
    Format {
        name: "plan",
        read: plan,
        keys: PLAN_KEYS,
    },
    Format {
        name: "gate config",
        read: gate,
        keys: GATE_KEYS,
    },
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Each format's texts: the shipped files, and fixtures for the keys none of them uses.
fn corpus(format: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let dir = match format {
        "scenario" => "scenarios",
        "plan" => "plans",
        _ => {
            out.push(("ci/gate.toml".to_owned(), read("ci/gate.toml")));
            return out;
        }
    };
    let mut files: Vec<_> = std::fs::read_dir(root().join(dir))
        .expect("shipped files")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for f in files {
        let rel = f.strip_prefix(root()).unwrap_or(&f).display().to_string();
        out.push((rel.clone(), read(&rel)));
    }
    if format == "scenario" {
        let slow = read("scenarios/fault-slow-data.toml");
        out.push((
            "fixture: delay, sample_interval, at time, until after".into(),
            slow.replace(
                "write = \"25ms\"",
                "read = \"5ms\"\nwrite = \"25ms\"\nflush = \"1ms\"",
            )
            .replace(
                "timeout = \"10m\"",
                "timeout = \"10m\"\nsample_interval = \"250ms\"",
            )
            .replace(
                "at = \"step:slow\"\nuntil = \"step:fast\"",
                "at = \"time:5s\"\nuntil = \"after:10s\"",
            ),
        ));
        let flakey = read("scenarios/fault-metadata-flakey.toml");
        out.push((
            "fixture: flakey up/down, at written".into(),
            flakey
                .replace(
                    "mode = \"error_writes\"",
                    "mode = \"error_writes\"\nup = \"5s\"\ndown = \"1s\"",
                )
                .replace("at = \"step:break\"", "at = \"written:64MiB\""),
        ));
        let bad = read("scenarios/fault-bad-sectors.toml");
        out.push((
            "fixture: dust block_size".into(),
            bad.replace(
                "target = \"error\"\nbad = [\"1MiB+64KiB\"]",
                "target = \"dust\"\nblock_size = \"4KiB\"\nbad_blocks = [16]",
            ),
        ));
    }
    if format == "plan" {
        let p = read("plans/docker-default.toml");
        out.push((
            "fixture: max_data_size, horizon".into(),
            p.replace(
                "autoextend_threshold = 100",
                "autoextend_threshold = 80\nmax_data_size = \"200GiB\"",
            )
            .replace("horizon = \"30d\"", "horizon = \"60d\""),
        ));
    }
    out
}

/// One quantity in a text: where its spelling is, on which line, of which kind.
#[derive(Debug, Clone)]
struct Site {
    key: &'static str,
    q: Q,
    at: Range<usize>,
    line: usize,
}

/// Every site of `keys` in `text`: `key = "QUANTITY"` (also `expect.key`), `at =
/// "time:Q"` and `"written:Q"`, `until = "after:Q"`, `bad = ["Q+Q", …]`. Only values the
/// grammar reads count (a key of several types, like `bytes`, may hold an integer).
fn sites(text: &str, keys: &'static [(&'static str, Q)]) -> Vec<Site> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let Some(eq) = line.find(" = ") else {
            continue;
        };
        let k = line[..eq].trim().trim_start_matches("expect.");
        let v_at = start + eq + 3;
        let quoted = |from: usize| -> Option<Range<usize>> {
            let s = text[from..].find('"')? + from + 1;
            let e = text[s..].find('"')? + s;
            Some(s..e)
        };
        let mut push = |key: &'static str, q: Q, r: Range<usize>| {
            let s = text[r.clone()].trim();
            let ok = match q {
                Q::Size => parse_size(s).is_ok(),
                Q::Duration => parse_duration(s).is_ok(),
                Q::Rate => parse_rate(s).is_ok(),
            };
            if ok {
                out.push(Site {
                    key,
                    q,
                    at: r,
                    line: n + 1,
                });
            }
        };
        for (key, q) in keys {
            let (name, prefix) = key.split_once(':').unwrap_or((key, ""));
            if k != name {
                continue;
            }
            let Some(r) = quoted(v_at) else { continue };
            if name == "bad" {
                // ["OFFSET+LENGTH", ...]: the first range's two sizes.
                let s = &text[r.clone()];
                if let Some(p) = s.find('+') {
                    push(key, *q, r.start..r.start + p);
                    push(key, *q, r.start + p + 1..r.end);
                }
            } else if prefix.is_empty() {
                push(key, *q, r);
            } else if let Some(rest) = text[r.clone()].strip_prefix(&format!("{prefix}:")) {
                push(key, *q, r.end - rest.len()..r.end);
            }
        }
    }
    out
}

/// Other spellings of the quantity `s`: each means exactly what `s` means.
fn spellings(q: Q, s: &str) -> Vec<String> {
    match q {
        Q::Size => {
            let b = parse_size(s).expect("a size").0;
            let mut v = vec![b.to_string(), format!("{b}B"), format!("{b} B")];
            for (u, m) in [
                ("s", 512u64),
                ("KiB", 1 << 10),
                ("K", 1 << 10),
                ("MiB", 1 << 20),
                ("M", 1 << 20),
                ("GiB", 1 << 30),
                ("kB", 1000),
                ("MB", 1_000_000),
            ] {
                if b.is_multiple_of(m) {
                    v.push(format!("{}{u}", b / m));
                }
            }
            if b >= 1 << 20 {
                v.push(format!("{}_{:03}B", b / 1000, b % 1000));
            }
            v
        }
        Q::Duration => {
            let d = parse_duration(s).expect("a duration");
            let ns = d.as_nanos();
            let mut v = vec![format_duration(d), format!("{ns}ns"), format!("{ns} ns")];
            for (u, m) in [
                ("us", 1_000u128),
                ("µs", 1_000),
                ("ms", 1_000_000),
                ("s", 1_000_000_000),
                ("m", 60_000_000_000),
                ("h", 3_600_000_000_000),
                ("d", 86_400_000_000_000),
                ("w", 604_800_000_000_000),
            ] {
                if ns.is_multiple_of(m) {
                    v.push(format!("{}{u}", ns / m));
                }
            }
            v
        }
        Q::Rate => {
            let (b, per) = parse_rate(s).expect("a rate");
            let mut v = Vec::new();
            for size in spellings(Q::Size, &b.human()) {
                for per in spellings(Q::Duration, &format_duration(per)) {
                    v.push(format!("{size}/{per}"));
                }
            }
            v
        }
    }
}

/// Spellings of about the quantity `s` that the grammar refuses: a decimal, and the unit
/// in the wrong case.
fn mistakes(q: Q, s: &str) -> Vec<String> {
    let split = |t: &str| {
        let i = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        (t[..i].to_owned(), t[i..].to_owned())
    };
    let flip = |u: &str| -> String {
        u.chars()
            .map(|c| {
                if c.is_uppercase() {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect()
    };
    match q {
        Q::Size => {
            let (n, u) = split(&parse_size(s).expect("a size").human());
            let mut v = vec![format!("{n}.5{u}"), format!("{n} furlongs")];
            if !u.is_empty() && u != "B" {
                v.push(format!("{n}{}", flip(&u)));
            }
            v
        }
        Q::Duration => {
            let d = parse_duration(s).expect("a duration");
            let (n, u) = split(&format_duration(d));
            let u: String = u.chars().take_while(|c| c.is_alphabetic()).collect();
            vec![format!("{n}.5{u}"), format!("{n}{}", flip(&u)), n.clone()]
        }
        Q::Rate => {
            let i = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            vec![format!("{}.5{}", &s[..i], &s[i..]), s.to_uppercase()]
        }
    }
}

/// The grammar's own message and hint for `bad`.
fn grammar_error(q: Q, bad: &str) -> (String, String) {
    let e = match q {
        Q::Size => parse_size(bad).err(),
        Q::Duration => parse_duration(bad).err(),
        Q::Rate => parse_rate(bad).err(),
    }
    .unwrap_or_else(|| panic!("the grammar takes {bad:?}"));
    (e.message, e.hint)
}

fn replace(text: &str, at: &Range<usize>, with: &str) -> String {
    format!("{}{with}{}", &text[..at.start], &text[at.end..])
}

/// How many places of one key are checked (of every file's).
const SITES_PER_KEY: usize = 2;

#[test]
fn every_size_and_duration_key_reads_every_spelling_alike() {
    let mut checked = 0;
    for f in FORMATS {
        // Sites checked per key: the first few are enough to show a reader takes the
        // grammar (each key has one call site in its reader), and reading thousands of
        // scenarios in a debug build takes most of a minute.
        let mut per_key: Vec<&str> = Vec::new();
        for (name, text) in corpus(f.name) {
            let path = Path::new("f.toml");
            let want =
                (f.read)(path, &text).unwrap_or_else(|e| panic!("{name} does not read:\n{e}"));
            for site in sites(&text, f.keys) {
                if per_key.iter().filter(|k| **k == site.key).count() >= SITES_PER_KEY {
                    continue;
                }
                per_key.push(site.key);
                let orig = text[site.at.clone()].trim().to_owned();
                for s in spellings(site.q, &orig) {
                    let got = (f.read)(path, &replace(&text, &site.at, &s));
                    assert_eq!(
                        got.as_ref(),
                        Ok(&want),
                        "{name}:{}: `{}` = {orig:?} spelled {s:?} reads differently",
                        site.line,
                        site.key
                    );
                    checked += 1;
                }
                for bad in mistakes(site.q, &orig) {
                    let (message, hint) = grammar_error(site.q, &bad);
                    let e = (f.read)(path, &replace(&text, &site.at, &bad))
                        .err()
                        .unwrap_or_else(|| panic!("{name}:{}: {bad:?} was taken", site.line));
                    let at_line = format!("f.toml:{}:", site.line);
                    assert!(
                        e.lines().any(|l| l.starts_with(&at_line) && l.contains(&message))
                            && e.contains(&hint),
                        "{name}:{}: `{}` = {bad:?}: expected {message:?} / {hint:?} at that line, got:\n{e}",
                        site.line,
                        site.key
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 500, "only {checked} spellings checked");
}

#[test]
fn every_key_and_flag_is_covered() {
    for f in FORMATS {
        let mut seen: Vec<&str> = Vec::new();
        for (_, text) in corpus(f.name) {
            seen.extend(sites(&text, f.keys).iter().map(|s| s.key));
        }
        for (key, _) in f.keys {
            assert!(
                seen.contains(key),
                "{} key `{key}`: no file or fixture writes it",
                f.name
            );
        }
    }
}

/// The flags that take a duration, each as a command line with `{}` for the value, and
/// how to get the parsed value back.
type FlagParse = fn(&str) -> Result<Duration, String>;

fn flags() -> Vec<(&'static str, FlagParse)> {
    fn run(v: &str) -> Result<Duration, String> {
        match crate::Cli::try_parse_from(["thinbench", "run", "--timeout", v, "s.toml"]) {
            Ok(crate::Cli {
                command: crate::Cmd::Run(a),
                ..
            }) => Ok(a.timeout.expect("given")),
            Ok(c) => panic!("{c:?}"),
            Err(e) => Err(e.to_string()),
        }
    }
    fn vm_exec(v: &str) -> Result<Duration, String> {
        match crate::Cli::try_parse_from(["thinbench", "vm", "exec", "--timeout", v, "--", "true"])
        {
            Ok(crate::Cli {
                command: crate::Cmd::Vm(crate::vm::VmCmd::Exec { timeout, .. }),
                ..
            }) => Ok(timeout),
            Ok(c) => panic!("{c:?}"),
            Err(e) => Err(e.to_string()),
        }
    }
    vec![("run --timeout", run), ("vm exec --timeout", vm_exec)]
}

#[test]
fn every_duration_flag_reads_the_same_grammar() {
    for (flag, parse) in flags() {
        for s in spellings(Q::Duration, "20m") {
            assert_eq!(parse(&s), Ok(Duration::from_secs(1200)), "{flag} {s}");
        }
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)), "{flag}");
        assert_eq!(parse("1d"), Ok(Duration::from_secs(86_400)), "{flag}");
        for bad in mistakes(Q::Duration, "20m") {
            let (message, hint) = grammar_error(Q::Duration, &bad);
            let e = parse(&bad).unwrap_err();
            assert!(
                e.contains(&message) && e.contains(&hint),
                "{flag} {bad}: {e}"
            );
        }
        let e = parse("25h").unwrap_err();
        assert!(
            e.contains("a timeout must be 1s to 24h, not 1d1h"),
            "{flag}: {e}"
        );
    }
}

#[test]
fn vm_exec_takes_20m() {
    // The case: `vm exec --timeout 20m` said "invalid digit found in string".
    let (_, parse) = flags()[1];
    assert_eq!(parse("20m"), Ok(Duration::from_secs(20 * 60)));
    let cli =
        crate::Cli::try_parse_from(["thinbench", "vm", "exec", "--", "true"]).expect("parses");
    let crate::Cmd::Vm(crate::vm::VmCmd::Exec { timeout, .. }) = cli.command else {
        panic!("{cli:?}");
    };
    assert_eq!(timeout, Duration::from_secs(600), "the default is 10m");
}

/// `plan --horizon` takes the same grammar (without the timeouts' 24h bound).
#[test]
fn plan_horizon_reads_the_same_grammar() {
    let parse =
        |v: &str| match crate::Cli::try_parse_from(["thinbench", "plan", "p.toml", "--horizon", v])
        {
            Ok(crate::Cli {
                command: crate::Cmd::Plan(a),
                ..
            }) => Ok(a.horizon.expect("given")),
            Ok(c) => panic!("{c:?}"),
            Err(e) => Err(e.to_string()),
        };
    for s in spellings(Q::Duration, "20m") {
        assert_eq!(parse(&s), Ok(Duration::from_secs(1200)), "{s}");
    }
    assert_eq!(parse("12w"), Ok(Duration::from_secs(12 * 7 * 86_400)));
    for bad in mistakes(Q::Duration, "20m") {
        let (message, hint) = grammar_error(Q::Duration, &bad);
        let e = parse(&bad).unwrap_err();
        assert!(e.contains(&message) && e.contains(&hint), "{bad}: {e}");
    }
}

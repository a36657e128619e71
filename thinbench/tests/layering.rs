//! The layering check (docs/architecture.md): no import circle between the source files of
//! any crate of the workspace. An arrow is a path that names another file's module —
//! `crate::a::b::…` or `super::…` in a `use` or in code — outside `#[cfg(test)]` code;
//! declaring a child (`mod x;`) is not one. A circle is printed with the names that tie
//! each file to the next, so it can be broken where it forms.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates' `src` directories, from the workspace root.
const CRATES: &[&str] = &[
    "schema/src",
    "model/src",
    "workloads/src",
    "reports/src",
    "gate/src",
    "planner/src",
    "harness/src",
    "thinbench/src",
];

/// The crate picture of docs/architecture.md: each crate (its folder) and the workspace
/// crates it may depend on. Every arrow points down this list.
const ALLOWED: &[(&str, &[&str])] = &[
    ("schema", &[]),
    ("model", &["thinbench-schema"]),
    ("workloads", &["thinbench-schema"]),
    ("reports", &["thinbench-schema"]),
    ("gate", &["thinbench-schema"]),
    (
        "planner",
        &["thinbench-schema", "thinbench-model", "thinbench-workloads"],
    ),
    (
        "harness",
        &["thinbench-schema", "thinbench-model", "thinbench-workloads"],
    ),
    (
        "thinbench",
        &[
            "thinbench-schema",
            "thinbench-workloads",
            "thinbench-reports",
            "thinbench-gate",
            "thinbench-planner",
            "thinbench-harness",
        ],
    ),
];

/// The `thinbench-*` names in a manifest's `[dependencies]` table (dev-dependencies are
/// tests' and may reach anywhere).
fn workspace_deps(manifest: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_deps = l == "[dependencies]";
        } else if in_deps && l.starts_with("thinbench-") {
            let name = l.split(['.', ' ', '=']).next().unwrap();
            out.insert(name.to_owned());
        }
    }
    out
}

#[test]
fn crates_depend_only_downwards() {
    let root = workspace();
    let members = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let mut wrong = Vec::new();
    for (folder, allowed) in ALLOWED {
        assert!(
            members.contains(&format!("\"{folder}\"")),
            "{folder} is not a workspace member"
        );
        let manifest = std::fs::read_to_string(root.join(folder).join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains(&format!("name = \"{}\"", crate_name(folder))),
            "the folder {folder} is not named as its crate"
        );
        for dep in workspace_deps(&manifest) {
            if !allowed.contains(&dep.as_str()) {
                wrong.push(format!("{folder} depends on {dep}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows not in docs/architecture.md: {wrong:?}"
    );
    // The libraries do not parse command lines or carry anyhow (the binary does).
    for (folder, _) in ALLOWED.iter().filter(|(f, _)| *f != "thinbench") {
        let manifest = std::fs::read_to_string(root.join(folder).join("Cargo.toml")).unwrap();
        let deps = manifest.split("[dependencies]").nth(1).unwrap_or("");
        let deps = deps.split("\n[").next().unwrap_or("");
        for banned in ["clap", "anyhow"] {
            assert!(
                !deps.lines().any(|l| l.trim().starts_with(banned)),
                "{folder} (a library) depends on {banned}"
            );
        }
    }
}

/// `thinbench-<folder>`, or `thinbench` for the binary's folder.
fn crate_name(folder: &str) -> String {
    if folder == "thinbench" {
        "thinbench".into()
    } else {
        format!("thinbench-{folder}")
    }
}

#[test]
fn the_check_reads_dependencies_not_dev_dependencies() {
    let m = "[package]\nname = \"x\"\n[dependencies]\nthinbench-schema.workspace = true\nthinbench-model = { path = \"../model\" }\n[dev-dependencies]\nthinbench-gate.workspace = true\n";
    let got: Vec<String> = workspace_deps(m).into_iter().collect();
    assert_eq!(got, ["thinbench-model", "thinbench-schema"]);
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`, with its module path (`runner::actions::io`).
fn modules(src: &Path, dir: &Path, out: &mut BTreeMap<Vec<String>, PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            modules(src, &p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut m: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(m.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                m.pop();
            }
            out.insert(m, p);
        }
    }
}

/// The code of a file before its `#[cfg(test)]` item (tests may import anything).
fn non_test(text: &str) -> &str {
    match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// The child modules `code` declares (`mod x;`, `pub(crate) mod x;`).
fn children(code: &str) -> Vec<String> {
    code.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.split_once("mod ")?;
            let before = rest.0.trim();
            let ok = before.is_empty() || before.starts_with("pub");
            let name = rest.1.strip_suffix(';')?;
            (ok && name.chars().all(|c| c.is_alphanumeric() || c == '_')).then(|| name.to_owned())
        })
        .collect()
}

/// Paths in `code` that start with `crate::`, `super::` or one of `kids` (the file's own
/// child modules, named relative), as segments (`self::` for a child), with `{a, b}`
/// groups expanded one level (enough for `use crate::x::{a, b::c}`).
fn paths(code: &str, kids: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in code.lines() {
        let l = line.trim_start();
        if l.starts_with("//") || children(l).len() == 1 {
            continue;
        }
        let mut rest = l;
        while let Some(i) = rest.find(|c: char| c.is_alphabetic()) {
            let tail = &rest[i..];
            let boundary = rest[..i]
                .chars()
                .last()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'));
            let kid = kids.iter().find(|k| tail.starts_with(&format!("{k}::")));
            if boundary
                && (tail.starts_with("crate::") || tail.starts_with("super::") || kid.is_some())
            {
                let end = tail
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '{'))
                    .unwrap_or(tail.len());
                let p = &tail[..end];
                let (head, group) = match p.find("::{") {
                    Some(g) => (&p[..g], Some(&tail[g + 3..])),
                    None => (p.trim_end_matches("::"), None),
                };
                let mut segs: Vec<String> = head.split("::").map(str::to_owned).collect();
                if kid.is_some() {
                    segs.insert(0, "self".to_owned());
                }
                match group {
                    Some(g) => {
                        let inner = &g[..g.find('}').unwrap_or(g.len())];
                        for item in inner.split(',') {
                            let item = item.trim();
                            if item.is_empty() {
                                continue;
                            }
                            let mut s = segs.clone();
                            s.extend(item.split("::").map(|x| x.trim().to_owned()));
                            out.push(s);
                        }
                    }
                    None => out.push(segs),
                }
                rest = &tail[end..];
            } else {
                let skip = tail
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(tail.len());
                rest = &tail[skip.max(1)..];
            }
        }
    }
    out
}

/// The file a path names: its longest prefix that is a module of the crate, after
/// `crate`/`super` are resolved against `from`.
fn target(
    from: &[String],
    path: &[String],
    mods: &BTreeMap<Vec<String>, PathBuf>,
) -> Option<Vec<String>> {
    let mut abs: Vec<String> = Vec::new();
    let mut it = path.iter().peekable();
    match it.peek().map(|s| s.as_str()) {
        Some("crate") => {
            it.next();
        }
        Some("self") => {
            it.next();
            abs = from.to_vec();
        }
        Some("super") => {
            // In a.rs and in a/mod.rs alike, the module is `a` and `super` its parent.
            abs = from.to_vec();
            while it.peek().map(|s| s.as_str()) == Some("super") {
                it.next();
                abs.pop();
            }
        }
        _ => return None,
    }
    abs.extend(
        it.map(|s| s.trim().to_owned())
            .filter(|s| s != "self" && s != "*"),
    );
    (0..=abs.len())
        .rev()
        .map(|n| abs[..n].to_vec())
        .find(|m| mods.contains_key(m))
}

#[test]
fn no_import_circles_between_files() {
    let mut circles = Vec::new();
    for krate in CRATES {
        circles.extend(circles_in(&workspace().join(krate), krate));
    }
    assert!(circles.is_empty(), "{}", circles.join("\n"));
}

/// The checker finds what it is for: a child that imports its parent's item while the
/// parent calls the child, and a loop through three siblings; and no false circle in a
/// parent that only re-exports.
#[test]
fn the_check_finds_circles() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path();
    let w = |p: &str, text: &str| {
        let f = src.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, text).unwrap();
    };
    w(
        "lib.rs",
        "pub mod a;\npub mod b;\npub mod c;\npub mod p;\npub mod q;\n",
    );
    w("a.rs", "use crate::b::f;\n");
    w("b.rs", "pub fn f() { crate::c::g() }\n");
    w("c.rs", "pub fn g() { super::a::h() }\n");
    w(
        "p/mod.rs",
        "mod kid;\npub struct Shared;\npub fn run() { kid::go() }\n",
    );
    w("p/kid.rs", "use super::Shared;\npub fn go() {}\n");
    w("q/mod.rs", "mod leaf;\npub use leaf::Item;\n");
    w(
        "q/leaf.rs",
        "pub struct Item;\n#[cfg(test)]\nmod tests { use super::super::*; }\n",
    );
    let found = circles_in(src, "synthetic").join("\n");
    assert!(
        found.contains("a.rs -> ") && found.contains("c.rs -> "),
        "{found}"
    );
    assert!(
        found.contains("p/kid.rs -> ") && found.contains("Shared"),
        "{found}"
    );
    assert!(!found.contains("q/"), "{found}");
}

/// The circles among the files under `src` (a crate's `src`), each with what ties it.
fn circles_in(src: &Path, krate: &str) -> Vec<String> {
    let mut circles = Vec::new();
    {
        let src = src.to_path_buf();
        let mut mods = BTreeMap::new();
        modules(&src, &src, &mut mods);
        // Edges: file -> file, with the names that tie them.
        let mut edges: BTreeMap<Vec<String>, BTreeMap<Vec<String>, BTreeSet<String>>> =
            BTreeMap::new();
        for (m, file) in &mods {
            let text = std::fs::read_to_string(file).unwrap();
            let code = non_test(&text);
            for p in paths(code, &children(code)) {
                if let Some(t) = target(m, &p, &mods) {
                    if t != *m {
                        edges
                            .entry(m.clone())
                            .or_default()
                            .entry(t)
                            .or_default()
                            .insert(p.join("::"));
                    }
                }
            }
        }
        // Tarjan's strongly connected components.
        struct T<'a> {
            edges: &'a BTreeMap<Vec<String>, BTreeMap<Vec<String>, BTreeSet<String>>>,
            index: BTreeMap<Vec<String>, usize>,
            low: BTreeMap<Vec<String>, usize>,
            stack: Vec<Vec<String>>,
            on: BTreeSet<Vec<String>>,
            next: usize,
            sccs: Vec<Vec<Vec<String>>>,
        }
        fn visit(t: &mut T<'_>, v: &Vec<String>) {
            t.index.insert(v.clone(), t.next);
            t.low.insert(v.clone(), t.next);
            t.next += 1;
            t.stack.push(v.clone());
            t.on.insert(v.clone());
            let outs: Vec<Vec<String>> = t
                .edges
                .get(v)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            for w in outs {
                if !t.index.contains_key(&w) {
                    visit(t, &w);
                    let lw = t.low[&w];
                    let lv = t.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if t.on.contains(&w) {
                    let iw = t.index[&w];
                    let lv = t.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
            if t.low[v] == t.index[v] {
                let mut scc = Vec::new();
                loop {
                    let w = t.stack.pop().unwrap();
                    t.on.remove(&w);
                    let done = w == *v;
                    scc.push(w);
                    if done {
                        break;
                    }
                }
                if scc.len() > 1 {
                    t.sccs.push(scc);
                }
            }
        }
        let mut t = T {
            edges: &edges,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on: BTreeSet::new(),
            next: 0,
            sccs: Vec::new(),
        };
        for v in mods.keys() {
            if !t.index.contains_key(v) {
                visit(&mut t, v);
            }
        }
        for scc in t.sccs {
            let set: BTreeSet<&Vec<String>> = scc.iter().collect();
            let mut why = Vec::new();
            for a in &scc {
                for (b, names) in edges.get(a).into_iter().flatten() {
                    if set.contains(b) {
                        why.push(format!(
                            "  {} -> {}: {}",
                            mods[a].strip_prefix(&src).unwrap_or(&mods[a]).display(),
                            mods[b].strip_prefix(&src).unwrap_or(&mods[b]).display(),
                            names.iter().cloned().collect::<Vec<_>>().join(", ")
                        ));
                    }
                }
            }
            circles.push(format!("circle in {krate}:\n{}", why.join("\n")));
        }
    }
    circles
}

//! Scenario files → plans, through the public API only: the shipped scenarios load with
//! the values and defaults they promise, bad files give exactly the positioned errors
//! expected, and no input makes the loader panic.

use std::path::{Path, PathBuf};
use std::time::Duration;
use thinbench_harness::scenario::{
    load_scenario, load_scenario_str, ScenarioError, ScenarioErrors,
};
use thinbench_harness::spec::{
    AccessPattern, Action, BlockCount, DeviceSpec, Expect, Limit, LowWaterMark, NoSpacePolicy,
    PoolKindSpec, PoolSpec, Recover, ScenarioSpec, SmallWriteSpec,
};
use thinbench_schema::record::PoolMode;
use thinbench_schema::units::{Bytes, DataBlocks, Sectors};

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../harness/tests/fixtures/scenarios")
        .join(name)
}

fn load_ok(path: &Path) -> ScenarioSpec {
    match load_scenario(path) {
        Ok(p) => p,
        Err(e) => panic!("{} should load:\n{e}", path.display()),
    }
}

fn load_err(path: &Path) -> ScenarioErrors {
    match load_scenario(path) {
        Ok(p) => panic!("{} should not load, got {p:#?}", path.display()),
        Err(e) => e,
    }
}

fn pool<'p>(plan: &'p ScenarioSpec, name: &str) -> &'p PoolSpec {
    plan.pools
        .iter()
        .find(|p| p.name.as_str() == name)
        .unwrap_or_else(|| panic!("no pool {name}"))
}

fn small_write(plan: &ScenarioSpec, step: usize) -> &SmallWriteSpec {
    match &plan.steps[step].action {
        Action::SmallWrite(w) => w,
        other => panic!("step {step} is {other:?}"),
    }
}

/// Both shipped Docker-shaped scenarios: Docker's settings, their own (scaled-down) sizes.
fn check_docker_shape(
    plan: &ScenarioSpec,
    loop_name: &str,
    direct_name: &str,
    loop_data: Bytes,
    direct_disk: Bytes,
) {
    assert_eq!(plan.pools.len(), 2);

    let lp = pool(plan, loop_name);
    assert_eq!(lp.chunk.sectors(), Sectors(128));
    // Docker's 32768 blocks are 2% of its 100GiB pool; a scaled-down pool keeps the ratio.
    let docker_ratio = [
        LowWaterMark::Blocks(DataBlocks(32_768)),
        LowWaterMark::Percent(2),
    ];
    assert!(
        docker_ratio.contains(&lp.low_water_mark),
        "{:?}",
        lp.low_water_mark
    );
    assert!(!lp.block_zeroing);
    assert!(lp.discard_passdown);
    assert_eq!(lp.no_space, NoSpacePolicy::Queue);
    assert_eq!(lp.no_space_timeout, None);
    match &lp.kind {
        PoolKindSpec::LoopLvm(l) => {
            assert_eq!(l.data_size, loop_data);
            assert_eq!(l.metadata_size, Bytes(64 * MIB));
            assert_eq!(l.dir, None);
        }
        other => panic!("{loop_name} is {other:?}"),
    }

    let dp = pool(plan, direct_name);
    assert_eq!(dp.chunk.bytes(), Bytes(512 * KIB));
    assert!(!dp.block_zeroing);
    match &dp.kind {
        PoolKindSpec::DirectLvm(d) => {
            assert_eq!(d.device, DeviceSpec::Auto { size: direct_disk });
            assert_eq!(
                (
                    d.thinpool_percent,
                    d.metadata_percent,
                    d.autoextend_threshold,
                    d.autoextend_percent
                ),
                (95, 1, 80, 20)
            );
        }
        other => panic!("{direct_name} is {other:?}"),
    }

    // The first five steps are common; the Docker scenario goes on with CoW and fill.
    let actions: Vec<&str> = plan.steps.iter().map(|s| s.action.name()).take(5).collect();
    assert_eq!(
        actions,
        [
            "create-thin",
            "small-write",
            "small-write",
            "snapshot",
            "delete-thin"
        ]
    );
    for (i, s) in plan.steps.iter().enumerate() {
        assert_eq!(s.index, i);
        assert_eq!(s.pools, None, "every step runs on both pools");
    }
    let Action::CreateThin { thin, id, .. } = &plan.steps[0].action else {
        unreachable!()
    };
    assert_eq!((thin.as_str(), *id), ("base", None));
    assert_eq!(
        plan.steps[0].expect,
        [Expect::DataBlocksAllocated(BlockCount::Exact(0))]
    );

    let seq = small_write(plan, 1);
    assert_eq!(seq.thin.as_str(), "base");
    assert_eq!(seq.io_size, Bytes(4 * KIB));
    assert_eq!(seq.pattern, AccessPattern::Sequential);
    assert_eq!(seq.limit, Limit::Bytes(Bytes(4 * MIB)));
    assert_eq!((seq.offset, seq.span), (Bytes(0), None));

    let rnd = small_write(plan, 2);
    assert_eq!(rnd.io_size, Bytes(4 * KIB));
    assert_eq!(rnd.pattern, AccessPattern::Random { seed: 7 });
    assert_eq!(rnd.limit, Limit::Count(512));
    assert_eq!((rnd.offset, rnd.span), (Bytes(0), Some(Bytes(256 * MIB))));
    for step in [1, 2] {
        assert!(plan.steps[step]
            .expect
            .contains(&Expect::DataBlocksAllocated(BlockCount::ChunksTouched)));
        assert!(plan.steps[step].expect.contains(&Expect::Errors(0)));
    }

    let Action::Snapshot { thin, origin, .. } = &plan.steps[3].action else {
        unreachable!()
    };
    assert_eq!(origin.as_str(), "base");
    let Action::DeleteThin { thin: deleted } = &plan.steps[4].action else {
        unreachable!()
    };
    assert_eq!(deleted, thin, "the snapshot made is the one deleted");
    assert_eq!(plan.steps[4].expect, [Expect::Mode(PoolMode::Rw)]);
}

#[test]
fn smoke_scenario_loads() {
    let path = repo_file("scenarios/smoke.toml");
    let plan = load_ok(&path);
    assert_eq!(plan.name.as_str(), "smoke");
    assert_eq!(plan.source, path);
    assert_eq!(plan.timeout, Duration::from_secs(20 * 60));
    assert!(plan.description.is_some());
    check_docker_shape(&plan, "loop", "direct", Bytes(GIB), Bytes(2 * GIB));
    let Action::CreateThin { size, .. } = &plan.steps[0].action else {
        unreachable!()
    };
    assert_eq!(*size, Bytes(GIB));
}

#[test]
fn docker_devicemapper_scenario_loads() {
    let plan = load_ok(&repo_file("scenarios/docker-devicemapper.toml"));
    assert_eq!(plan.name.as_str(), "docker-devicemapper");
    assert_eq!(plan.timeout, Duration::from_secs(40 * 60));
    check_docker_shape(
        &plan,
        "loop-lvm",
        "direct-lvm",
        Bytes(256 * MIB),
        Bytes(512 * MIB),
    );
    let Action::CreateThin { size, .. } = &plan.steps[0].action else {
        unreachable!()
    };
    assert_eq!(*size, Bytes(10 * GIB), "Docker's base device");
    let tail: Vec<&str> = plan.steps[5..].iter().map(|s| s.action.name()).collect();
    assert_eq!(tail, ["cow-overwrite", "create-thin", "delete", "fill"]);
    // Docker's container removal with dm.blkdiscard, on both pool kinds.
    let Action::Delete(d) = &plan.steps[7].action else {
        unreachable!()
    };
    assert_eq!(d.method, thinbench_harness::spec::DeleteMethod::Blkdiscard);
    assert!(plan.steps[7].pools.is_none(), "every pool");
    let Action::Fill(f) = &plan.steps[8].action else {
        unreachable!()
    };
    assert_eq!(
        f.recover,
        Recover::DeleteThin {
            thin: thinbench_schema::ids::Ident::new("image-3").unwrap()
        }
    );
}

#[test]
fn minimal_file_gets_every_default() {
    let plan = load_ok(&fixture("minimal.toml"));
    assert_eq!(
        plan.name.as_str(),
        "minimal",
        "name defaults to the file stem"
    );
    assert_eq!(plan.description, None);
    assert_eq!(plan.timeout, Duration::from_secs(30 * 60));

    let p = pool(&plan, "p");
    assert_eq!(p.chunk.bytes(), Bytes(64 * KIB));
    let PoolKindSpec::LoopLvm(l) = &p.kind else {
        panic!("{:?}", p.kind)
    };
    assert_eq!(
        (l.data_size, l.metadata_size),
        (Bytes(100 * GIB), Bytes(2 * GIB))
    );
    let d = pool(&plan, "d");
    assert_eq!(d.chunk.bytes(), Bytes(512 * KIB));
    assert_eq!(d.low_water_mark, LowWaterMark::Blocks(DataBlocks(32_768)));
    let PoolKindSpec::DirectLvm(dl) = &d.kind else {
        panic!("{:?}", d.kind)
    };
    assert_eq!(
        dl.device,
        DeviceSpec::Auto {
            size: Bytes(20 * GIB)
        }
    );

    assert_eq!(plan.steps[0].name.as_str(), "step0-create-thin");
    assert_eq!(plan.steps[1].name.as_str(), "step1-small-write");
    let Action::CreateThin { size, .. } = &plan.steps[0].action else {
        unreachable!()
    };
    assert_eq!(*size, Bytes(10 * GIB));
    let w = small_write(&plan, 1);
    assert_eq!(w.io_size, Bytes(4 * KIB));
    assert_eq!(w.pattern, AccessPattern::Random { seed: 1 });
    assert_eq!(w.limit, Limit::Count(1));
    assert_eq!((w.offset, w.span), (Bytes(0), None));
    assert!(plan.steps.iter().all(|s| s.expect.is_empty()));
}

/// Exactly one error, at `line:col`, whose message contains `fragment`.
fn one_error(file: &str, line: usize, col: usize, fragment: &str) -> ScenarioError {
    let path = fixture(file);
    let errs = load_err(&path);
    assert_eq!(errs.errors.len(), 1, "{errs}");
    let e = errs.errors.into_iter().next().expect("one error");
    assert_eq!(e.file, path);
    assert_eq!((e.line, e.col), (line, col), "{e}");
    assert!(e.message.contains(fragment), "{e}");
    let shown = e.to_string();
    let prefix = format!("{}:{line}:{col}: error: ", path.display());
    assert!(shown.starts_with(&prefix), "{shown}");
    e
}

#[test]
fn unknown_key_is_reported_at_the_key() {
    let e = one_error(
        "unknown-key.toml",
        6,
        1,
        "unknown key `chunk_sise` in [[pool]]",
    );
    let hint = e.hint.expect("hint");
    assert!(hint.starts_with("did you mean `chunk_size`?"), "{hint}");
    assert!(
        hint.contains("low_water_mark"),
        "lists the valid keys: {hint}"
    );
}

#[test]
fn bad_unit_is_reported_at_the_value() {
    let e = one_error("bad-unit.toml", 6, 13, "invalid `data_size`");
    // Quotes the size grammar's own message.
    assert!(
        e.message
            .contains("`12 furlongs`: unknown size unit `furlongs`"),
        "{}",
        e.message
    );
}

#[test]
fn bad_chunk_size_is_reported_with_the_dm_thin_rule() {
    let e = one_error("bad-chunk.toml", 6, 16, "not a multiple of 64KiB");
    assert_eq!(
        e.hint.as_deref(),
        Some(
            "dm-thin chunk sizes are multiples of 64KiB (128 sectors) from 64KiB to 1GiB; \
             Docker uses 64KiB (loop-lvm) and 512KiB (direct-lvm)"
        )
    );
    let shown = e.to_string();
    let (first, second) = shown.split_once('\n').expect("two lines");
    assert!(
        first.ends_with("(dm-thin needs a multiple of 128 sectors)"),
        "{first}"
    );
    assert!(
        second.starts_with("  hint: dm-thin chunk sizes"),
        "{second}"
    );
}

#[test]
fn every_independent_mistake_is_reported_in_file_order() {
    let errs = load_err(&fixture("many-mistakes.toml"));
    let got: Vec<(usize, usize)> = errs.errors.iter().map(|e| (e.line, e.col)).collect();
    // Each mistake is independent of the others: none hides another, none cascades.
    let expected: [(usize, usize, &str); 11] = [
        (2, 11, "invalid `timeout`"),
        (7, 14, "`chunk_size` must be a size"),
        (
            8,
            1,
            "`device` is a key of direct-lvm pools, and this pool is loop-lvm",
        ),
        (11, 8, "duplicate pool name `loop`"),
        (14, 20, "`thinpool_percent` + `metadata_percent` is 101%"),
        (20, 6, "24-bit"),
        (24, 8, "no thin named `bsae`"),
        (26, 1, "both `bytes` and `count`"),
        (
            29,
            10,
            "action `fault` is not supported yet in format v1 (planned)",
        ),
        (35, 18, "no pool named `nope`"),
        (37, 8, "`mode` must be one of"),
    ];
    assert_eq!(
        got,
        expected
            .iter()
            .map(|(l, c, _)| (*l, *c))
            .collect::<Vec<_>>(),
        "{errs}"
    );
    for (e, (_, _, fragment)) in errs.errors.iter().zip(expected) {
        assert!(e.message.contains(fragment), "{e}");
    }
    let bsae = &errs.errors[6];
    assert_eq!(bsae.hint.as_deref(), Some("did you mean `base`?"));
    // Display: one block per error, in the same order.
    let shown = errs.to_string();
    assert_eq!(shown.matches(": error: ").count(), 11);
    assert!(
        shown.contains("many-mistakes.toml:2:11: error: invalid `timeout`"),
        "{shown}"
    );
}

#[test]
fn syntax_errors_are_positioned() {
    let text = "format = 1\n[[pool]]\nname = \"a\"\nkind = \n";
    let errs = load_scenario_str(Path::new("s.toml"), text).expect_err("bad TOML");
    assert_eq!(errs.errors.len(), 1);
    let e = &errs.errors[0];
    assert_eq!((e.line, e.col), (4, 8), "{e}");
    assert!(e.message.starts_with("invalid TOML: "), "{e}");
    assert!(!e.message.contains('\n'), "one line: {e}");
}

#[test]
fn unreadable_and_non_utf8_files() {
    let missing = fixture("no-such-file.toml");
    let errs = load_err(&missing);
    assert_eq!(errs.errors.len(), 1);
    let e = &errs.errors[0];
    assert_eq!((e.line, e.col), (0, 0));
    assert!(
        e.to_string()
            .starts_with(&format!("{}: error: cannot read: ", missing.display())),
        "{e}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("latin1.toml");
    std::fs::write(&path, b"format = 1\nname = \"caf\xe9\"\n").expect("write");
    let errs = load_err(&path);
    assert_eq!(errs.errors.len(), 1, "{errs}");
    let e = &errs.errors[0];
    assert_eq!((e.line, e.col), (2, 12), "{e}"); // `name = "caf` is 11 characters
    assert!(e.message.contains("not UTF-8"), "{e}");
}

/// A deterministic generator for mutations (splitmix64).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Loads `text` and checks the answer is sane: no panic (the call returning is the
/// test), errors non-empty with positions inside the text.
fn load_any(text: &str) -> bool {
    let lines = text.split('\n').count();
    match load_scenario_str(Path::new("mutant.toml"), text) {
        Ok(_) => true,
        Err(errs) => {
            assert!(!errs.errors.is_empty(), "an error list is never empty");
            for e in &errs.errors {
                assert!(
                    e.line >= 1 && e.line <= lines && e.col >= 1,
                    "{e} for {text:?}"
                );
                assert!(!e.message.is_empty() && !e.message.contains('\n'), "{e}");
            }
            false
        }
    }
}

#[test]
fn truncated_files_never_panic() {
    for file in ["scenarios/smoke.toml", "scenarios/docker-devicemapper.toml"] {
        let text = std::fs::read_to_string(repo_file(file)).expect("read");
        let mut ok = 0;
        let mut cuts = 0;
        for end in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
            cuts += 1;
            ok += usize::from(load_any(&text[..end]));
        }
        // The empty prefix lacks `format`; most prefixes lack steps or cut a value.
        assert!(cuts > 1000, "{cuts}");
        assert!(ok < cuts, "{file}: every truncation loaded");
    }
}

#[test]
fn mutated_files_never_panic() {
    let text = std::fs::read(repo_file("scenarios/smoke.toml")).expect("read");
    // Bytes a scenario is made of, plus some that are not.
    let alphabet: &[u8] = b"[]{}=\"'#,.%-_0123456789abcdefgkmsKMGTiB \n\t\\\xff\x00";
    let mut rng = Rng(0x7417_b3c4);
    let mut errors = 0;
    for round in 0..600 {
        let mut m = text.clone();
        for _ in 0..1 + round % 4 {
            let at = rng.below(m.len().max(1));
            match rng.below(4) {
                0 => m[at] = alphabet[rng.below(alphabet.len())],
                1 => m[at] ^= 1 << rng.below(8),
                2 => {
                    m.remove(at.min(m.len() - 1));
                }
                _ => m.insert(at, alphabet[rng.below(alphabet.len())]),
            }
        }
        let s = String::from_utf8_lossy(&m);
        errors += usize::from(!load_any(&s));
    }
    assert!(errors > 300, "most mutations should be rejected: {errors}");

    // Raw bytes through the file loader too (invalid UTF-8 included).
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.toml");
    for _ in 0..50 {
        let mut m = text.clone();
        let at = rng.below(m.len());
        m[at] = 0x80 | (rng.next() as u8);
        std::fs::write(&path, &m).expect("write");
        assert!(
            load_scenario(&path).is_err(),
            "a stray high byte is never valid"
        );
    }
}

#[test]
fn metadata_exhaustion_scenario_loads() {
    let plan = load_ok(&repo_file("scenarios/metadata-exhaustion.toml"));
    match &plan.steps[1].action {
        Action::MetadataFill(m) => {
            assert_eq!(m.thin.as_str(), "base");
            assert_eq!((m.span, m.io_size), (Bytes(512 * MIB), Bytes(4 * KIB)));
            assert_eq!((m.stride, m.snapshots), (64, 16));
        }
        other => panic!("step 1 is {other:?}"),
    }
    assert_eq!(plan.steps[1].expect, vec![Expect::Mode(PoolMode::Ro)]);
    match &plan.steps[2].action {
        Action::RepairMetadata(r) => assert_eq!(r.grow_by, Bytes(4 * MIB)),
        other => panic!("step 2 is {other:?}"),
    }
    assert!(plan.steps[2].expect.contains(&Expect::NeedsCheck(false)));
}

#[test]
fn metadata_fill_rules() {
    let head = "format = 1\nname = \"m\"\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n[[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"1GiB\"\n";
    let ok = format!("{head}[[step]]\naction = \"metadata-fill\"\nthin = \"t\"\n[[step]]\naction = \"repair-metadata\"\n");
    let plan = load_scenario_str(Path::new("m.toml"), &ok).unwrap();
    match &plan.steps[1].action {
        Action::MetadataFill(m) => {
            assert_eq!((m.span, m.stride, m.snapshots), (Bytes(512 * MIB), 64, 32))
        }
        other => panic!("{other:?}"),
    }
    for (bad, fragment) in [
        ("snapshots = 0", "`snapshots` must be 1 to 1000"),
        ("span = \"2GiB\"", "goes past the end of thin"),
        ("grow_by = \"1MiB\"", "`grow_by`"),
    ] {
        let text = format!("{head}[[step]]\naction = \"metadata-fill\"\nthin = \"t\"\n{bad}\n");
        let e = load_scenario_str(Path::new("m.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(e.contains(fragment), "{bad}: {e}");
    }
}

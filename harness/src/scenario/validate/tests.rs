//! Scenario text → plan or errors: the values, defaults and exact messages of every check.

use super::actions::RESERVED_ACTIONS;
use super::pool::CHUNK_HINT;
use super::scenario::DEFAULT_TIMEOUT;
use super::*;
use crate::scenario::{load_scenario_str, ScenarioError};
use crate::spec::{
    AccessPattern, Action, BlockCount, DelaySpec, DeviceSpec, ErrorSpec, Expect, FaultAt,
    FaultDevice, FaultSpec, FaultTarget, FaultUntil, FlakeyMode, FlakeySpec, Limit, LowWaterMark,
    NoSpacePolicy, PoolKindSpec,
};
use thinbench_schema::ids::ThinId;
use thinbench_schema::record::PoolMode;
use thinbench_schema::units::DataBlocks;

/// Two pools, `a` (loop-lvm) and `b` (direct-lvm), to put steps after.
const POOLS: &str = "format = 1\n\
    [[pool]]\nname = \"a\"\nkind = \"loop-lvm\"\n\
    [[pool]]\nname = \"b\"\nkind = \"direct-lvm\"\n";

fn load(text: &str) -> Result<ScenarioSpec, Vec<ScenarioError>> {
    load_scenario_str(Path::new("t.toml"), text).map_err(|e| e.errors)
}

fn ok(text: &str) -> ScenarioSpec {
    load(text).unwrap_or_else(|e| panic!("should load: {e:#?}"))
}

/// `ok` with `--allow-host-paths`.
fn ok_granted(text: &str) -> ScenarioSpec {
    let g = Grants { host_paths: true };
    crate::scenario::load_scenario_str_granted(Path::new("t.toml"), text, &g)
        .unwrap_or_else(|e| panic!("should load: {e:#?}"))
}

/// The one error of `text` with `--allow-host-paths`.
fn one_granted(text: &str) -> String {
    let g = Grants { host_paths: true };
    let e = crate::scenario::load_scenario_str_granted(Path::new("t.toml"), text, &g)
        .expect_err("should fail")
        .errors;
    assert_eq!(e.len(), 1, "{e:#?}");
    e[0].to_string()
}

/// Messages (with hints) of a file that must fail.
fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(p) => panic!("should fail: {p:#?}"),
        Err(e) => e
            .iter()
            .map(|e| match &e.hint {
                Some(h) => format!("{} [hint: {h}]", e.message),
                None => e.message.clone(),
            })
            .collect(),
    }
}

/// The single error of a file; panics when there are more.
fn one(text: &str) -> String {
    let e = errors(text);
    assert_eq!(e.len(), 1, "{e:#?}");
    e.into_iter().next().unwrap_or_default()
}

fn steps(s: &str) -> String {
    format!("{POOLS}{s}")
}

/// A pool table with extra keys, and one trivial step.
fn pool(kind: &str, extra: &str) -> String {
    format!(
        "format = 1\n[[pool]]\nname = \"p\"\nkind = \"{kind}\"\n{extra}\n\
         [[step]]\naction = \"create-thin\"\nthin = \"t\"\n"
    )
}

const CREATE_T: &str = "[[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"1GiB\"\n";

#[test]
fn timeout_default_and_bounds() {
    let base = pool("loop-lvm", "");
    assert_eq!(ok(&base).timeout, DEFAULT_TIMEOUT);
    let with = |t: &str| {
        base.replacen(
            "format = 1\n",
            &format!("format = 1\ntimeout = \"{t}\"\n"),
            1,
        )
    };
    assert_eq!(ok(&with("1h30m")).timeout, Duration::from_secs(5400));
    assert_eq!(ok(&with("24h")).timeout, Duration::from_secs(86400));
    assert!(one(&with("0s")).contains("must be 1s to 1d, not 0s"));
    assert!(one(&with("25h")).contains("not 1d1h"));
}

#[test]
fn format_version() {
    let base = pool("loop-lvm", "");
    let missing = base.replacen("format = 1\n", "", 1);
    let e = load(&missing).expect_err("no format");
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].line, e[0].col), (1, 1));
    assert!(e[0].message.contains("missing `format`"));
    // Another version: only that error, whatever else the file holds.
    let v2 = base.replacen("format = 1\n", "format = 2\nnew_key = 1\n", 1);
    let msg = one(&v2);
    assert!(msg.contains("unsupported scenario format 2"), "{msg}");
    assert!(msg.contains("reads format 1"), "{msg}");
    let text = base.replacen("format = 1", "format = \"1\"", 1);
    assert!(one(&text).contains("`format` must be an integer"));
}

#[test]
fn scenario_name() {
    let base = pool("loop-lvm", "");
    assert_eq!(ok(&base).name.as_str(), "t");
    let bad_stem =
        load_scenario_str(Path::new("dir/my scenario.toml"), &base).expect_err("stem has a space");
    assert_eq!(bad_stem.errors.len(), 1);
    assert!(bad_stem.errors[0].message.contains("no `name`"));
    let named = load_scenario_str(
        Path::new("dir/my scenario.toml"),
        &base.replacen("format = 1\n", "format = 1\nname = \"mine\"\n", 1),
    )
    .expect("named");
    assert_eq!(named.name.as_str(), "mine");
    let bad = base.replacen("format = 1\n", "format = 1\nname = \"9lives\"\n", 1);
    assert!(one(&bad).contains("invalid scenario name: `9lives` must start with a letter"));
}

#[test]
fn pool_count_and_names() {
    let e = one("format = 1\n[[step]]\naction = \"create-thin\"\nthin = \"t\"\n");
    assert!(e.contains("no [[pool]]"), "{e}");
    let e = one("format = 1\npool = []\n[[step]]\naction = \"create-thin\"\nthin = \"t\"\n");
    assert!(e.contains("no [[pool]]"), "{e}");
    let mut nine = String::from("format = 1\n");
    for i in 0..9 {
        nine.push_str(&format!("[[pool]]\nname = \"p{i}\"\nkind = \"loop-lvm\"\n"));
    }
    nine.push_str(CREATE_T);
    let e = load(&nine).expect_err("9 pools");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].line, 26, "at the ninth [[pool]]");
    assert!(e[0]
        .message
        .contains("too many [[pool]] tables: 9, at most 8"));
    assert!(one("format = 1\n[[pool]]\nkind = \"loop-lvm\"\n[[step]]\naction = \"create-thin\"\nthin = \"t\"\n")
        .contains("[[pool]] has no `name`"));
    assert!(one(&pool("loop_lvm", "")).contains("did you mean \"loop-lvm\"?"));
    assert!(one(
        "format = 1\n[[pool]]\nname = \"p\"\n[[step]]\naction = \"create-thin\"\nthin = \"t\"\n"
    )
    .contains("[[pool]] has no `kind`"));
}

#[test]
fn chunk_sizes() {
    let chunk = |v: &str| pool("loop-lvm", &format!("chunk_size = {v}"));
    assert_eq!(ok(&chunk("65536")).pools[0].chunk.bytes(), Bytes(64 * KIB));
    assert_eq!(ok(&chunk("\"1GiB\"")).pools[0].chunk.bytes(), Bytes(GIB));
    assert!(one(&chunk("\"2GiB\"")).contains("exceeds dm-thin's maximum of 1GiB"));
    assert!(one(&chunk("\"0\"")).contains(CHUNK_HINT));
    assert!(one(&chunk("-65536")).contains("must not be negative"));
    assert!(one(&chunk("1.5")).contains("not a float"));
}

#[test]
fn low_water_marks() {
    let lwm = |v: &str| pool("loop-lvm", &format!("low_water_mark = {v}"));
    assert_eq!(
        ok(&lwm("\"10%\"")).pools[0].low_water_mark,
        LowWaterMark::Percent(10)
    );
    assert_eq!(
        ok(&lwm("\"100%\"")).pools[0].low_water_mark,
        LowWaterMark::Percent(100)
    );
    assert_eq!(
        ok(&lwm("0")).pools[0].low_water_mark,
        LowWaterMark::Blocks(DataBlocks(0))
    );
    for bad in ["\"0%\"", "\"101%\"", "\"10\"", "\"ten%\""] {
        assert!(one(&lwm(bad)).contains("expected a percentage"), "{bad}");
    }
    assert!(one(&lwm("-1")).contains("must not be negative"));
    assert!(one(&lwm("true")).contains("not a boolean"));
}

#[test]
fn loop_lvm_sizes() {
    let p = |extra: &str| pool("loop-lvm", extra);
    let plan = ok(&p("data_size = \"4GiB\"\nmetadata_size = 8388608"));
    let PoolKindSpec::LoopLvm(l) = &plan.pools[0].kind else {
        panic!()
    };
    assert_eq!(
        (l.data_size, l.metadata_size),
        (Bytes(4 * GIB), Bytes(8 * MIB))
    );
    assert!(one(&p("chunk_size = \"1GiB\"\ndata_size = \"512MiB\""))
        .contains("`data_size` is 512MiB, smaller than one chunk (1GiB)"));
    assert!(one(&p("data_size = \"512KiB\"")).contains("below the minimum of 1MiB"));
    assert!(one(&p("data_size = 1048577")).contains("not a multiple of 512"));
    assert!(one(&p("data_size = \"17TiB\"")).contains("above the maximum of 16TiB"));
    let e = one(&p("metadata_size = \"17GiB\""));
    assert!(
        e.contains("above the maximum of 16GiB") && e.contains("dm-thin uses at most 16GiB"),
        "{e}"
    );
    assert!(one(&p("data_size = \"12 furlongs\"")).contains("unknown size unit `furlongs`"));
    assert!(one(&p("data_size = \"abc\"")).contains("is not a size"));
    // Trailing spaces are fine; the size grammar trims.
    let plan = ok(&p("data_size = \"1GB \""));
    let PoolKindSpec::LoopLvm(l) = &plan.pools[0].kind else {
        panic!()
    };
    assert_eq!(l.data_size, Bytes(1_000_000_000));
}

#[test]
fn loop_lvm_dir() {
    let dir_of = |extra: &str| {
        let plan = ok(&pool("loop-lvm", extra));
        let PoolKindSpec::LoopLvm(l) = &plan.pools[0].kind else {
            panic!()
        };
        l.dir.clone()
    };
    assert_eq!(dir_of(""), None);
    assert_eq!(
        dir_of("dir = \"pool-files/x\""),
        Some(PathBuf::from("pool-files/x"))
    );
    let outside = "dir = \"/var/tmp/x\"\nallow_outside_workdir = true";
    let PoolKindSpec::LoopLvm(l) = &ok_granted(&pool("loop-lvm", outside)).pools[0].kind else {
        panic!()
    };
    assert_eq!(l.dir, Some(PathBuf::from("/var/tmp/x")));
    // The file alone cannot let itself out: one error, naming the flag.
    let e = one(&pool("loop-lvm", outside));
    assert!(
        e.contains("cannot grant itself host paths") && e.contains("--allow-host-paths"),
        "{e}"
    );
    let p = |extra: &str| pool("loop-lvm", extra);
    assert!(one(&p("dir = \"/var/tmp\"")).contains("`dir` is absolute"));
    assert!(one(&p("dir = \"a/../../b\"")).contains("`..` component"));
    assert!(one(&p("dir = \"\"")).contains("`dir` is empty"));
    assert!(one(&p("allow_outside_workdir = true")).contains("no effect without `dir`"));
    assert!(one(&p("dir = \"x\\u0000\"")).contains("NUL"));
}

#[test]
fn direct_lvm_devices() {
    let device_of = |extra: &str| {
        let plan = ok(&pool("direct-lvm", extra));
        let PoolKindSpec::DirectLvm(d) = &plan.pools[0].kind else {
            panic!()
        };
        d.device.clone()
    };
    assert_eq!(
        device_of(""),
        DeviceSpec::Auto {
            size: Bytes(20 * GIB)
        }
    );
    assert_eq!(
        device_of("device = \"loop\"\ndevice_size = \"1GiB\""),
        DeviceSpec::LoopBacked { size: Bytes(GIB) }
    );
    let PoolKindSpec::DirectLvm(d) =
        &ok_granted(&pool("direct-lvm", "device = \"/dev/disk/by-id/x\"")).pools[0].kind
    else {
        panic!()
    };
    assert_eq!(
        d.device,
        DeviceSpec::Path(PathBuf::from("/dev/disk/by-id/x"))
    );
    let e = one(&pool("direct-lvm", "device = \"/dev/sda\""));
    assert!(
        e.contains("names a block device of the machine") && e.contains("--allow-host-paths"),
        "{e}"
    );
    let p = |extra: &str| pool("direct-lvm", extra);
    assert!(one(&p("device = \"vdb\"")).contains("like \"/dev/vdb\""));
    assert!(one(&p("device = \"Auto\"")).contains("did you mean \"auto\"?"));
    for bad in [
        "/dev/",
        "/dev/../etc/passwd",
        "/dev//vdb",
        "/etc/vdb",
        "/dev/./vdb",
    ] {
        assert!(
            one(&p(&format!("device = \"{bad}\""))).contains("under /dev/"),
            "{bad}"
        );
    }
    assert!(
        one_granted(&p("device = \"/dev/vdb\"\ndevice_size = \"1GiB\""))
            .contains("does not apply to a device path")
    );
    assert!(one(&p("device_size = \"32MiB\"")).contains("below the minimum of 64MiB"));
}

#[test]
fn direct_lvm_metadata_size_and_extent_size() {
    let p = |extra: &str| pool("direct-lvm", extra);
    let plan = ok(&p(
        "device_size = \"1GiB\"\nextent_size = \"1MiB\"\nmetadata_size = \"2MiB\"",
    ));
    let PoolKindSpec::DirectLvm(d) = &plan.pools[0].kind else {
        panic!("direct-lvm")
    };
    assert_eq!(d.metadata_size, Some(Bytes(2 * MIB)));
    assert_eq!(d.extent_size, Bytes(MIB));
    let PoolKindSpec::DirectLvm(d) = &ok(&p("")).pools[0].kind else {
        panic!("direct-lvm")
    };
    assert_eq!((d.metadata_size, d.extent_size), (None, Bytes(4 * MIB)));
    assert!(one(&p("metadata_size = \"1MiB\"")).contains("below the minimum of 2MiB"));
    assert!(one(&p("metadata_size = \"8MiB\"\nmetadata_percent = 2"))
        .contains("both size the metadata LV"));
    assert!(one(&p("extent_size = \"3MiB\"")).contains("not a power of two"));
    assert!(one(&p("extent_size = \"512KiB\"")).contains("below the minimum of 1MiB"));
    // 95% data leaves 5% of a 256MiB VG: no room for 2 × 16MiB of metadata.
    let e = one(&p("device_size = \"256MiB\"\nmetadata_size = \"16MiB\""));
    assert!(
        e.contains("lvm's spare copy") && e.contains("lower `thinpool_percent`"),
        "{e}"
    );
    // A smaller extent makes a small percentage possible.
    assert!(one(&p("device_size = \"256MiB\"")).contains("less than one 4MiB lvm extent"));
    ok(&p(
        "device_size = \"256MiB\"\nextent_size = \"1MiB\"\nmetadata_percent = 1",
    ));
}

#[test]
fn direct_lvm_percentages() {
    let p = |extra: &str| pool("direct-lvm", extra);
    let plan = ok(&p("thinpool_percent = 90\nmetadata_percent = 5\nautoextend_threshold = 100\nautoextend_percent = 0"));
    let PoolKindSpec::DirectLvm(d) = &plan.pools[0].kind else {
        panic!()
    };
    assert_eq!((d.thinpool_percent, d.metadata_percent), (90, 5));
    // 100% of the VG in the two LVs leaves no room for lvm's spare metadata LV.
    assert!(one(&p("thinpool_percent = 90\nmetadata_percent = 10")).contains("lvm's spare copy"));
    assert_eq!((d.autoextend_threshold, d.autoextend_percent), (100, 0));
    let e = one(&p("autoextend_threshold = 49"));
    assert!(
        e.contains("must be 50 to 100, not 49") && e.contains("as 50"),
        "{e}"
    );
    assert!(one(&p("metadata_percent = 0")).contains("must be 1 to 100, not 0"));
    assert!(one(&p("thinpool_percent = 101")).contains("not 101"));
    assert!(one(&p("autoextend_percent = 101")).contains("must be 0 to 100"));
    assert!(one(&p("thinpool_percent = 100")).contains("is 101%"));
}

#[test]
fn keys_of_the_other_kind() {
    let e = one(&pool("direct-lvm", "data_size = \"1GiB\""));
    assert!(
        e.contains("`data_size` is a key of loop-lvm pools, and this pool is direct-lvm"),
        "{e}"
    );
    assert!(
        e.contains("direct-lvm pools take:") && e.contains("device_size"),
        "{e}"
    );
    let e = errors(&pool(
        "loop-lvm",
        "device = \"auto\"\nthinpool_percent = 95",
    ));
    assert_eq!(e.len(), 2, "{e:#?}");
    // Other pool settings default the same on both kinds.
    let plan = ok(&pool("direct-lvm", "no_space = \"error\"\nno_space_timeout = \"0s\"\nblock_zeroing = true\ndiscard_passdown = false"));
    let p = &plan.pools[0];
    assert_eq!(p.no_space, NoSpacePolicy::Error);
    assert_eq!(p.no_space_timeout, Some(Duration::ZERO));
    assert!(p.block_zeroing && !p.discard_passdown);
    assert!(one(&pool("loop-lvm", "no_space_timeout = \"2h\"")).contains("0s to 1h"));
    assert!(one(&pool("loop-lvm", "no_space = \"queue_if_no_space\""))
        .contains("must be one of \"queue\", \"error\""));
}

#[test]
fn actions() {
    let e = one(&steps("[[step]]\naction = \"fstrim\"\n"));
    assert!(
        e.contains("action `fstrim` is not supported yet in format v1 (planned)"),
        "{e}"
    );
    for reserved in RESERVED_ACTIONS {
        let e = one(&steps(&format!("[[step]]\naction = \"{reserved}\"\n")));
        assert!(e.contains("not supported yet"), "{reserved}: {e}");
    }
    let e = one(&steps("[[step]]\naction = \"create_thin\"\nthin = \"t\"\n"));
    assert!(
        e.contains("unknown action `create_thin`") && e.contains("did you mean `create-thin`?"),
        "{e}"
    );
    let e = one(&steps("[[step]]\naction = \"frobnicate\"\n"));
    assert!(
        e.contains("valid actions: create-thin, snapshot, delete-thin, small-write, cow-overwrite, fill, deferred-removal, deferred-deletion, delete"),
        "{e}"
    );
    assert!(one(&steps("[[step]]\nthin = \"t\"\n")).contains("[[step]] has no `action`"));
    let e = one(&steps(
        "[[step]]\naction = \"create-thin\"\nthin = \"t\"\norigin = \"x\"\n",
    ));
    assert!(
        e.contains(
            "`origin` is not a key of create-thin steps (it is for: snapshot, cow-overwrite, metadata-tool)"
        ),
        "{e}"
    );
    let e = one(&steps(&format!(
        "{CREATE_T}[[step]]\naction = \"delete-thin\"\nthin = \"t\"\nid = 3\n"
    )));
    assert!(e.contains("(it is for: create-thin, snapshot)"), "{e}");
    assert!(one(&steps("[[step]]\naction = \"create-thin\"\n"))
        .contains("create-thin step has no `thin`"));
    assert!(one(&steps(&format!(
        "{CREATE_T}[[step]]\naction = \"snapshot\"\nthin = \"s\"\n"
    )))
    .contains("snapshot step has no `origin`"));
    let e = one(&steps(
        "[[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"512KiB\"\n",
    ));
    assert!(e.contains("below the minimum of 1MiB"), "{e}");
    let plan = ok(&steps(
        "[[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = 1048576\nid = 16777215\npools = [\"a\"]\n",
    ));
    assert_eq!(
        plan.steps[0].action,
        Action::CreateThin {
            thin: Ident::new("t").unwrap(),
            id: Some(ThinId::new(16_777_215).unwrap()),
            size: Bytes(MIB),
            external_origin: None,
        }
    );
    assert!(one(&steps(
        "[[step]]\naction = \"create-thin\"\nthin = \"t\"\nid = -1\n"
    ))
    .contains("not negative"));
}

#[test]
fn step_names_and_pools() {
    let plan = ok(&steps(&format!("{CREATE_T}[[step]]\nname = \"d\"\naction = \"delete-thin\"\nthin = \"t\"\npools = [\"b\"]\n")));
    assert_eq!(plan.steps[0].name.as_str(), "step0-create-thin");
    assert_eq!(plan.steps[1].name.as_str(), "d");
    assert_eq!(plan.steps[1].pools, Some(vec![Ident::new("b").unwrap()]));
    assert!(plan.steps[1].applies_to(&Ident::new("b").unwrap()));
    assert!(!plan.steps[1].applies_to(&Ident::new("a").unwrap()));
    // A written name that is some other step's default name.
    let e = load(&steps(
        "[[step]]\nname = \"step1-delete-thin\"\naction = \"create-thin\"\nthin = \"t\"\n\
         [[step]]\naction = \"delete-thin\"\nthin = \"t\"\n",
    ))
    .expect_err("clash");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].line, 9, "at the written name");
    assert!(e[0]
        .message
        .contains("duplicate step name `step1-delete-thin`: steps #0 and #1"));
    let e = one(&steps(&format!(
        "{CREATE_T}name = \"x\"\n[[step]]\nname = \"x\"\naction = \"delete-thin\"\nthin = \"t\"\n"
    )));
    assert!(e.contains("duplicate step name `x`"), "{e}");
    assert!(one(&steps(
        "[[step]]\nname = \"a b\"\naction = \"create-thin\"\nthin = \"t\"\n"
    ))
    .contains("invalid step name"));
    let with_pools = |p: &str| {
        steps(&format!(
            "[[step]]\naction = \"create-thin\"\nthin = \"t\"\npools = {p}\n"
        ))
    };
    assert!(one(&with_pools("[]")).contains("`pools` is empty"));
    assert!(one(&with_pools("[\"a\", \"a\"]")).contains("listed twice"));
    let e = one(&with_pools("[\"A\"]"));
    assert!(
        e.contains("no pool named `A`") && e.contains("did you mean `a`?"),
        "{e}"
    );
    assert!(one(&with_pools("\"a\"")).contains("must be an array of pool names"));
}

#[test]
fn thins_exist_per_pool() {
    // Made on `a` only, written on both: wrong on `b` alone, and said so.
    let e = one(&steps(
        "[[step]]\nname = \"mk\"\naction = \"create-thin\"\nthin = \"t\"\npools = [\"a\"]\n\
         [[step]]\naction = \"small-write\"\nthin = \"t\"\ncount = 1\n",
    ));
    assert!(
        e.contains("thin `t` does not exist here (in pool `b`)"),
        "{e}"
    );
    assert!(
        e.contains("step `mk` makes it, but not on this pool"),
        "{e}"
    );
    // Wrong on both pools: one error, no pool named.
    let e = one(&steps(
        "[[step]]\naction = \"delete-thin\"\nthin = \"ghost\"\n",
    ));
    assert_eq!(
        e,
        "no thin named `ghost` [hint: make it first with a create-thin or snapshot step]"
    );
    let e = one(&steps(&format!(
        "[[step]]\naction = \"small-write\"\nthin = \"t\"\ncount = 1\n{CREATE_T}"
    )));
    assert!(
        e.contains("does not exist yet: step `step1-create-thin` makes it later"),
        "{e}"
    );
    let e = one(&steps(&format!(
        "{CREATE_T}[[step]]\naction = \"delete-thin\"\nthin = \"t\"\n\
         [[step]]\naction = \"snapshot\"\nthin = \"s\"\norigin = \"t\"\n"
    )));
    assert!(
        e.contains("thin `t` no longer exists: step `step1-delete-thin` deleted it"),
        "{e}"
    );
    let e = one(&steps(&format!("{CREATE_T}{CREATE_T}")));
    assert!(
        e.contains("thin `t` already exists: step `step0-create-thin` made it"),
        "{e}"
    );
    // Deleted names may be made again; the same name may live in two pools.
    ok(&steps(&format!(
        "{CREATE_T}[[step]]\naction = \"delete-thin\"\nthin = \"t\"\n{CREATE_T}"
    )));
    ok(&steps(
        "[[step]]\naction = \"create-thin\"\nthin = \"t\"\npools = [\"a\"]\n\
         [[step]]\naction = \"create-thin\"\nthin = \"t\"\npools = [\"b\"]\n",
    ));
    // One bad name is reported once, where it is defined, not at every use.
    let e = errors(&steps(
        "[[step]]\naction = \"create-thin\"\nthin = \"bad name\"\n\
         [[step]]\naction = \"small-write\"\nthin = \"bad name\"\ncount = 1\n\
         [[step]]\naction = \"delete-thin\"\nthin = \"bad name\"\n",
    ));
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(e[0].contains("invalid thin name"));
    // A bad name never defined: the reference is still an error.
    assert!(
        one(&steps("[[step]]\naction = \"delete-thin\"\nthin = \"9\"\n"))
            .contains("no thin named `9`")
    );
}

#[test]
fn thin_ids_are_unique_per_pool() {
    // Two loop-lvm pools: direct-lvm takes no explicit ids.
    let two = |s: &str| {
        format!(
            "format = 1\n[[pool]]\nname = \"a\"\nkind = \"loop-lvm\"\n\
             [[pool]]\nname = \"c\"\nkind = \"loop-lvm\"\n{s}"
        )
    };
    let mk = |thin: &str, id: u32, pools: &str| {
        format!("[[step]]\naction = \"create-thin\"\nthin = \"{thin}\"\nid = {id}\n{pools}")
    };
    let e = one(&two(&format!("{}{}", mk("x", 7, ""), mk("y", 7, ""))));
    assert!(
        e.contains("thin id 7 is already used by step `step0-create-thin`"),
        "{e}"
    );
    ok(&two(&format!(
        "{}{}",
        mk("x", 7, "pools = [\"a\"]\n"),
        mk("y", 7, "pools = [\"c\"]\n")
    )));
    let e = one(&two(&format!(
        "{}[[step]]\naction = \"snapshot\"\nthin = \"s\"\norigin = \"x\"\nid = 7\n",
        mk("x", 7, "")
    )));
    assert!(e.contains("thin id 7 is already used"), "{e}");
}

#[test]
fn small_write_rules() {
    let w = |extra: &str| {
        steps(&format!(
            "{CREATE_T}[[step]]\naction = \"small-write\"\nthin = \"t\"\n{extra}\n"
        ))
    };
    let plan = ok(&w("pattern = \"random\"\nio_size = \"64KiB\"\nbytes = \"1MiB\"\noffset = \"128KiB\"\nspan = \"1MiB\""));
    let Action::SmallWrite(s) = &plan.steps[1].action else {
        panic!()
    };
    assert_eq!(s.io_size, Bytes(64 * KIB));
    assert_eq!(s.limit, Limit::Bytes(Bytes(MIB)));
    assert_eq!((s.offset, s.span), (Bytes(128 * KIB), Some(Bytes(MIB))));
    assert_eq!(s.pattern, AccessPattern::Random { seed: 1 });
    // One 4KiB IO every 64KiB: a chunk each, in order.
    let plan = ok(&w("pattern = \"sequential\"\nstride = 16\ncount = 3"));
    let Action::SmallWrite(s) = &plan.steps[1].action else {
        panic!()
    };
    assert_eq!(s.pattern, AccessPattern::Strided { stride: 16 });
    let plan = ok(&w("pattern = \"sequential\"\nstride = 1\ncount = 3"));
    let Action::SmallWrite(s) = &plan.steps[1].action else {
        panic!()
    };
    assert_eq!(s.pattern, AccessPattern::Sequential);
    let e = one(&w("stride = 16\ncount = 3"));
    assert!(
        e.contains("`stride` only applies to `pattern = \"sequential\"`"),
        "{e}"
    );
    let e = one(&w("pattern = \"sequential\"\nstride = 0\ncount = 3"));
    assert!(e.contains("`stride` must be 1 to 1048576, not 0"), "{e}");
    // The whole thin, exactly.
    ok(&w("count = 1\nspan = \"1GiB\""));
    ok(&w("count = 1\noffset = \"1023MiB\"\nio_size = \"1MiB\""));

    assert!(one(&w("")).contains("neither `bytes` nor `count`"));
    assert!(one(&w("count = 0")).contains("`count` must be at least 1, not 0"));
    assert!(one(&w("bytes = 0")).contains("`bytes` must be more than 0"));
    assert!(one(&w("bytes = \"6KiB\"")).contains("not a multiple of `io_size` (4KiB)"));
    assert!(one(&w("count = 1\nio_size = 100")).contains("below the minimum of 512B"));
    assert!(one(&w("count = 1\nio_size = \"32MiB\"")).contains("above the maximum of 16MiB"));
    assert!(one(&w("count = 1\nio_size = 1000")).contains("not a multiple of 512"));
    assert!(one(&w("count = 1\noffset = 512"))
        .contains("`offset` is 512B, not a multiple of `io_size` (4KiB)"));
    assert!(one(&w("count = 1\nspan = \"2KiB\"")).contains("less than one IO"));
    assert!(one(&w("count = 1\nspan = \"6KiB\"")).contains("`span` is 6KiB, not a multiple"));
    let e = one(&w("count = 1\noffset = \"512MiB\"\nspan = \"768MiB\""));
    assert!(
        e.contains("`offset` + `span` (512MiB + 768MiB) goes past the end of thin `t` (1GiB)"),
        "{e}"
    );
    let e = one(&w("count = 1\noffset = \"1GiB\""));
    assert!(e.contains("leaves no room for one 4KiB IO"), "{e}");
    let e = one(&w("count = 1\npattern = \"sequential\"\nseed = 3"));
    assert!(
        e.contains("`seed` only applies to `pattern = \"random\"`"),
        "{e}"
    );
    assert!(one(&w("count = 1\npattern = \"seq\""))
        .contains("must be one of \"random\", \"sequential\""));
    assert!(one(&w("count = 1\nseed = -3")).contains("`seed` must be at least 0"));
    let e = one(&w("count = 1\noffset = \"99999EiB\""));
    assert!(e.contains("too large"), "{e}");
}

#[test]
fn snapshots_have_their_origin_size() {
    let e = one(&steps(&format!(
        "{CREATE_T}[[step]]\naction = \"snapshot\"\nthin = \"s\"\norigin = \"t\"\n\
         [[step]]\naction = \"small-write\"\nthin = \"s\"\ncount = 1\nspan = \"2GiB\"\n"
    )));
    assert!(e.contains("past the end of thin `s` (1GiB)"), "{e}");
}

#[test]
fn expectations() {
    let write = |expect: &str| {
        steps(&format!(
            "{CREATE_T}[[step]]\naction = \"small-write\"\nthin = \"t\"\ncount = 1\n[step.expect]\n{expect}\n"
        ))
    };
    let plan = ok(&write(
        "data_blocks_allocated = \"chunks-touched\"\nmode = \"out_of_data_space\"\nerrors = 3",
    ));
    assert_eq!(
        plan.steps[1].expect,
        [
            Expect::DataBlocksAllocated(BlockCount::ChunksTouched),
            Expect::Mode(PoolMode::OutOfDataSpace),
            Expect::Errors(3),
        ]
    );
    let plan = ok(&write("data_blocks_allocated = 5\nmode = \"Fail\""));
    assert_eq!(
        plan.steps[1].expect,
        [
            Expect::DataBlocksAllocated(BlockCount::Exact(5)),
            Expect::Mode(PoolMode::Fail)
        ]
    );
    assert!(one(&write("mode = \"fail\"")).contains("did you mean \"Fail\"?"));
    assert!(one(&write("data_blocks_allocated = \"chunks_touched\""))
        .contains("must be an integer or \"chunks-touched\""));
    // Negative: the step freed blocks (discard_tests.rs has the steps that do).
    let freed = ok(&write("data_blocks_allocated = -1")).steps[1]
        .expect
        .clone();
    assert_eq!(freed, [Expect::DataBlocksAllocated(BlockCount::Exact(-1))]);
    assert!(one(&write("errors = -1")).contains("`errors` must be at least 0"));
    assert!(one(&write("eror = 0")).contains("did you mean `error`?"));
    // `error` is an error kind: an errno name or one of thinbench's words.
    let e = one(&write("error = \"EBUZY\""));
    assert!(
        e.contains("`error` must be an error kind, not \"EBUZY\""),
        "{e}"
    );
    assert!(e.contains("EBUSY") && e.contains("refused"), "{e}");
    assert!(one(&write("error = 0")).contains("an error kind"));
    let create = |expect: &str| steps(&format!("{CREATE_T}[step.expect]\n{expect}\n"));
    ok(&create("data_blocks_allocated = 0\nmode = \"rw\""));
    let plan = ok(&create("error = \"EBUSY\"\nerror_contains = \"busy\""));
    assert_eq!(
        plan.steps[0].expect,
        [
            Expect::ErrorContains("busy".into()),
            Expect::Error(crate::errors::Kind::Ebusy)
        ]
    );
    assert!(one(&create("data_blocks_allocated = \"chunks-touched\""))
        .contains("which create-thin steps do not record"));
    assert!(one(&create("errors = 0")).contains(
        "`errors` reads the workload's IO error count, which create-thin steps do not record"
    ));
    assert!(one(&steps(&format!("{CREATE_T}expect = 3\n"))).contains("`expect` must be a table"));
}

#[test]
fn toml_oddities() {
    let e = one(&pool("loop-lvm", "chunk_size = 1979-05-27T07:32:00Z"));
    assert!(e.contains("date-times are not used"), "{e}");
    let e = one(&pool("loop-lvm", "[pool.extra]\nx = 1"));
    assert!(e.contains("unknown key `extra` in [[pool]]"), "{e}");
    let e = one("format = 1\n[pool]\nname = \"p\"\nkind = \"loop-lvm\"\n[[step]]\naction = \"create-thin\"\nthin = \"t\"\n");
    assert!(e.contains("write `[[pool]]`, not `[pool]`"), "{e}");
    // Both true: the key is unknown, and so the file has no steps.
    let e = errors(&pool("loop-lvm", "").replace("[[step]]", "[[steps]]"));
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(e[0].starts_with("no [[step]]"), "{e:#?}");
    assert!(
        e[1].contains("unknown key `steps`") && e[1].contains("did you mean `step`?"),
        "{e:#?}"
    );
}

#[test]
fn messages_stay_one_line() {
    // Found by fuzzing (fuzz/ scenario): a thin name written as a multi-line string
    // came back inside "no thin named `...`" with its newlines, so one error printed
    // as several lines. Control characters in messages and hints are now escaped.
    let found = include_str!("../../../tests/fixtures/scenarios/fuzz-multiline-thin.toml");
    let e = load(found).unwrap_err();
    assert!(
        e.iter().any(|e| e
            .message
            .starts_with("no thin named `cault.\\nformat = 1\\n")),
        "{e:#?}"
    );
    let e = errors(&steps(
        "[[step]]\naction = \"create-thin\"\nthin = \"a\\tb\\u001b[31m\\r\"\n",
    ));
    assert_eq!(
        e,
        [concat!(
            "invalid thin name: `a\\tb\\u{1b}[31m\\r` contains `\\t`: use letters, digits, `-` and `_` only",
            " [hint: names are 1 to 32 ASCII letters, digits, `-` and `_`, starting with a letter]"
        )]
    );
    for e in load(found).unwrap_err().iter() {
        assert!(!e.to_string().contains(['\r', '\t', '\u{1b}']));
        assert_eq!(
            e.to_string().lines().count(),
            1 + usize::from(e.hint.is_some())
        );
    }
}

#[test]
fn faults() {
    let f = |extra: &str| {
        steps(&format!(
            "{CREATE_T}[[fault]]\npool = \"a\"\ndevice = \"data\"\ntarget = \"delay\"\n{extra}\n"
        ))
    };
    let plan = ok(&f("write = \"5ms\""));
    assert_eq!(
        plan.pools[0].faults,
        [FaultSpec {
            device: FaultDevice::Data,
            at: FaultAt::Start,
            until: FaultUntil::End,
            target: FaultTarget::Delay(DelaySpec {
                read_ms: 0,
                write_ms: 5,
                flush_ms: None
            })
        }]
    );
    assert!(plan.pools[1].faults.is_empty());
    let plan = ok(&f(
        "read = \"1s\"\nwrite = \"2ms\"\nflush = \"0ms\"\nat = \"start\"",
    ));
    assert_eq!(
        plan.pools[0].faults[0].target,
        FaultTarget::Delay(DelaySpec {
            read_ms: 1000,
            write_ms: 2,
            flush_ms: Some(0)
        })
    );
    // The pool narrowing of a shard keeps a pool's faults with it.
    let mut p = ok(&f("write = \"5ms\""));
    p.retain_pools(&["a".into()]).unwrap();
    assert_eq!(p.pools[0].faults.len(), 1);

    assert!(one(&f("write = \"2m\"")).contains("`write` must be 0s to 1m, not 2m"));
    assert!(one(&f("write = \"5\"")).contains("has no unit"));
    assert!(one(&f("write = 5")).contains("`write` must be a duration string"));
    assert!(one(&f("at = \"step2\"")).starts_with("invalid `at` \"step2\""));
    assert!(one(&f("wrte = \"1ms\"")).contains("did you mean `write`?"));
    // Schedules: a step that exists (CREATE_T's is `step0-create-thin`), times, amounts, usage.
    let plan = ok(&f("at = \"step:step0-create-thin\"\nuntil = \"after:2s\""));
    assert_eq!(
        plan.pools[0].faults[0].at,
        FaultAt::Step(Ident::new("step0-create-thin").unwrap())
    );
    assert_eq!(
        plan.pools[0].faults[0].until,
        FaultUntil::After(Duration::from_secs(2))
    );
    assert_eq!(
        ok(&f("at = \"usage:50%\"")).pools[0].faults[0].at,
        FaultAt::Usage(50)
    );
    assert_eq!(
        ok(&f("at = \"written:1MiB\"")).pools[0].faults[0].at,
        FaultAt::Written(Bytes(1 << 20))
    );
    let e = one(&f("at = \"step:nope\""));
    assert!(e.starts_with("the fault names no step `nope`"), "{e}");
    assert!(one(&f("at = \"usage:0%\"")).contains("from 1% to 100%"));
    assert!(one(&f("until = \"after:0s\"")).contains("above 0"));
    // flakey, error, log-writes, dust.
    let g = |target: &str, device: &str, extra: &str| {
        steps(&format!("{CREATE_T}[[fault]]\npool = \"a\"\ndevice = \"{device}\"\ntarget = \"{target}\"\n{extra}\n"))
    };
    let plan = ok(&g("flakey", "metadata", "mode = \"drop_writes\""));
    assert_eq!(
        plan.pools[0].faults[0].target,
        FaultTarget::Flakey(FlakeySpec {
            up_s: 0,
            down_s: 86_400,
            mode: FlakeyMode::DropWrites
        })
    );
    assert!(one(&g("flakey", "data", "up = \"1500ms\"")).contains("whole seconds"));
    assert!(one(&g("flakey", "data", "corrupt_byte = 3"))
        .contains("is for `mode = \"corrupt_bio_byte\"`"));
    let plan = ok(&g(
        "error",
        "data",
        "bad = [\"8MiB+64KiB\", \"8MiB+4KiB\", \"1MiB+512\"]",
    ));
    assert_eq!(
        plan.pools[0].faults[0].target,
        FaultTarget::Error(ErrorSpec {
            bad: vec![
                (Bytes(1 << 20), Bytes(512)),
                (Bytes(8 << 20), Bytes(64 << 10))
            ]
        })
    );
    assert!(one(&g("error", "data", "bad = [\"1MiB+100\"]")).contains("not whole sectors"));
    assert!(one(&g("error", "data", "")).starts_with("an error fault has no `bad` ranges"));
    assert!(one(&g("log-writes", "data", ""))
        .starts_with("a log-writes fault goes under the whole pool"));
    assert!(one(&g("delay", "pool", "")).starts_with("`device = \"pool\"` is for log-writes only"));
    assert!(
        one(&g("log-writes", "pool", "at = \"step:step0-create-thin\""))
            .contains("logs from the pool's construction")
    );
    assert!(
        ok(&g("log-writes", "pool", "log_size = \"64MiB\"")).pools[0]
            .faults
            .len()
            == 1
    );
    assert!(one(&g("dust", "data", "block_size = 1024")).contains("512 or 4096"));
    assert!(one(&g("delay", "data", "mode = \"drop_writes\""))
        .contains("`mode` is a key of the flakey target"));
    let e = one(&steps(&format!(
        "{CREATE_T}[[fault]]\npool = \"a\"\ndevice = \"data\"\ntarget = \"dealy\"\n"
    )));
    assert!(e.contains("did you mean \"delay\"?"), "{e}");
    let e = one(&steps(&format!(
        "{CREATE_T}[[fault]]\npool = \"a\"\ndevice = \"journal\"\ntarget = \"delay\"\n"
    )));
    assert!(
        e.contains("`device` must be one of \"data\", \"metadata\", \"pool\""),
        "{e}"
    );
    let e = one(&steps(&format!(
        "{CREATE_T}[[fault]]\npool = \"c\"\ndevice = \"data\"\ntarget = \"delay\"\n"
    )));
    assert!(e.starts_with("[[fault]] names no pool: `c`"), "{e}");
    let e = errors(&steps(&format!("{CREATE_T}[[fault]]\npool = \"a\"\n")));
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e.iter().any(|x| x.starts_with("[[fault]] has no `device`"))
            && e.iter().any(|x| x.starts_with("[[fault]] has no `target`"))
    );
    // Two delays on one device: one layer of a target per device.
    let e = one(&f(
        "write = \"1ms\"\n[[fault]]\npool = \"a\"\ndevice = \"data\"\ntarget = \"delay\"\n",
    ));
    assert!(
        e.starts_with("a second `delay` fault on pool `a`'s data device"),
        "{e}"
    );
    // ... but one on each device is fine.
    let plan = ok(&f(
        "[[fault]]\npool = \"a\"\ndevice = \"metadata\"\ntarget = \"delay\"\nread = \"1ms\"",
    ));
    assert_eq!(plan.pools[0].faults.len(), 2);
}

/// Faults under direct-lvm pools: `direct_lvm_fault_tests.rs`.
#[path = "direct_lvm_fault_tests.rs"]
mod direct_lvm_faults;

#[test]
fn a_low_water_mark_the_kernel_would_not_get_is_a_warning() {
    let pool = |extra: &str| {
        format!(
            "format = 1\nname = \"w\"\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
             data_size = \"256MiB\"\n{extra}[[step]]\naction = \"create-thin\"\nthin = \"t\"\n"
        )
    };
    // Docker's default 32768 blocks on a 4096-block pool: capped, at the pool table.
    let p = ok(&pool(""));
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    let w = p.warnings[0].as_warning().to_string();
    assert!(w.starts_with("t.toml:3:1: warning: the default `low_water_mark` (Docker's) of 32768 blocks is not below the pool's 4096 data blocks"), "{w}");
    assert!(w.contains("hint: give a share of the pool"), "{w}");
    // Given, and capped: at the key.
    let p = ok(&pool("low_water_mark = 5000\n"));
    assert!(p.warnings[0]
        .as_warning()
        .to_string()
        .starts_with("t.toml:7:1: warning: `low_water_mark` of 5000 blocks"));
    // Below the pool's size, or a share of it: nothing to say.
    assert!(ok(&pool("low_water_mark = 4095\n")).warnings.is_empty());
    assert!(ok(&pool("low_water_mark = \"2%\"\n")).warnings.is_empty());
    // direct-lvm: lvm sets it, the key does nothing.
    let d = ok("format = 1\nname = \"w\"\n[[pool]]\nname = \"d\"\nkind = \"direct-lvm\"\n\
                device = \"auto\"\nlow_water_mark = 100\n[[step]]\naction = \"create-thin\"\nthin = \"t\"\n");
    assert!(
        d.warnings[0].message.contains("not used on direct-lvm"),
        "{:?}",
        d.warnings
    );
    assert!(ok(
        "format = 1\nname = \"w\"\n[[pool]]\nname = \"d\"\nkind = \"direct-lvm\"\n\
                device = \"auto\"\n[[step]]\naction = \"create-thin\"\nthin = \"t\"\n"
    )
    .warnings
    .is_empty());
}

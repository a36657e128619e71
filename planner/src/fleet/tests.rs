use super::*;

fn load(text: &str) -> Result<Fleet, String> {
    load_fleet_str(Path::new("p.toml"), text).map_err(|e| e.to_string())
}

const OK: &str = r#"
format = 1
[pool]
data_size = "100GiB"
[[image]]
name = "app"
containers = 3
[[image.layer]]
bytes = "10MiB"
[[image.container_write]]
target = "image"
bytes = "1MiB"
pattern = "random"
seed = 3
"#;

#[test]
fn minimal_plan_takes_docker_defaults() {
    let f = load(OK).unwrap();
    assert_eq!(f.name, "p");
    assert_eq!(f.pool.chunk.bytes(), Bytes(65536));
    assert_eq!(f.pool.metadata_size, Bytes(2 * Bytes::GIB));
    assert_eq!(f.pool.low_water_mark, LowWater::Blocks(32768));
    assert_eq!(
        (f.pool.min_free_space_pct, f.pool.autoextend_threshold),
        (10, 80)
    );
    assert_eq!(f.thin_size, Bytes(10 * Bytes::GIB));
    assert_eq!(
        f.images[0].container_writes[0].pattern,
        Pattern::Random { seed: 3 }
    );
}

#[test]
fn unknown_key_has_a_position() {
    let e = load(&OK.replace("data_size", "data_sise")).unwrap_err();
    assert!(
        e.contains("p.toml:4:1: error: unknown key `data_sise` in [pool]\n  hint: did you mean `data_size`? valid keys in [pool]: data_size, metadata_size,"),
        "{e}"
    );
    // The required key it was meant to be is not reported missing on top: the
    // did-you-mean says it.
    assert!(!e.contains("missing `data_size`"), "{e}");
    let e = load(&OK.replace("data_size = \"100GiB\"", "")).unwrap_err();
    assert!(
        e.starts_with("p.toml:3:1: error: missing `data_size` in [pool]"),
        "{e}"
    );
}

#[test]
fn every_semantic_error_is_reported_with_its_position() {
    let t = OK
        .replace("\"100GiB\"", "\"12 furlongs\"")
        .replace("\"random\"", "\"zigzag\"");
    let e = load(&t).unwrap_err();
    let lines: Vec<&str> = e.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(lines.len(), 2, "{e}");
    assert!(
        lines[0].starts_with("p.toml:4:13: error: invalid `data_size`"),
        "{e}"
    );
    assert!(
        lines[1].starts_with("p.toml:13:11: error: unknown pattern `zigzag`"),
        "{e}"
    );
}

/// Each error is one line, and its hint (if any) one more: no value from the file,
/// however written, breaks that.
fn assert_one_line_each(e: &PlanErrors) {
    for err in &e.errors {
        let shown = err.to_string();
        assert!(!shown.contains(['\r', '\t', '\u{1b}']), "{shown:?}");
        assert_eq!(
            shown.lines().count(),
            1 + usize::from(err.hint.is_some()),
            "{shown:?}"
        );
        assert!(!err.message.contains('\n'), "{err:?}");
    }
    assert_eq!(
        e.to_string().lines().count(),
        e.errors
            .iter()
            .map(|e| 1 + usize::from(e.hint.is_some()))
            .sum::<usize>()
    );
}

#[test]
fn messages_stay_one_line() {
    // Values quoted in messages: a multi-line string and terminal escapes. The
    // scenario loader's fuzzing finding, for plans (they share the error type).
    let t = OK
        .replace("\"random\"", "\"\"\"zig\nzag\\u001b[31m\\r\"\"\"")
        .replace("\"100GiB\"", "\"12\\tfur\\nlongs\"");
    let e = load_fleet_str(Path::new("p.toml"), &t).unwrap_err();
    assert_eq!(e.errors.len(), 2, "{e}");
    assert_one_line_each(&e);
    let shown = e.to_string();
    assert!(
        shown.starts_with("p.toml:4:13: error: invalid `data_size`: `12\\tfur\\nlongs`"),
        "{shown}"
    );
    assert!(
        shown.contains("p.toml:13:11: error: unknown pattern `zig\\nzag\\u{1b}[31m\\r`"),
        "{shown}"
    );
    // A key serde does not know, quoted with a newline in it: toml's (multi-line)
    // message is folded, the key's own newline with it.
    let t = OK.replace("data_size", "\"data\\nsise\\u001b\"");
    let e = load_fleet_str(Path::new("p.toml"), &t).unwrap_err();
    assert_one_line_each(&e);
    assert!(e.errors[1].message.contains("unknown key"), "{e}");
    // A file name with a newline in it is shown escaped too.
    let e = load_fleet_str(Path::new("a\nb.toml"), "format = 1\n").unwrap_err();
    assert_one_line_each(&e);
    assert!(e.to_string().starts_with("a\\nb.toml:"), "{e}");
}

#[test]
fn writes_past_the_thin_are_refused() {
    let e = load(&OK.replace("\"10MiB\"", "\"11GiB\"")).unwrap_err();
    assert!(e.contains("past the thin's end (10GiB)"), "{e}");
}

#[test]
fn huge_writes_are_refused_not_overflowed() {
    // `count` times `io_size` overflowed (a panic in debug builds) while checking
    // the write's region; huge offsets and thin sizes overflowed the region's end.
    let layer = |w: &str| {
        format!(
            "format = 1\n[pool]\ndata_size = \"100GiB\"\n[base]\nsize = \"15EiB\"\n\
             [[image]]\nname = \"app\"\n[[image.layer]]\n{w}\n"
        )
    };
    let e = load(&layer("count = 9223372036854775807")).unwrap_err();
    assert!(
        e.contains("p.toml:9:9: error: count = 9223372036854775807 IOs of 4KiB overflows 64 bits"),
        "{e}"
    );
    let e = load(&layer("count = 1\noffset = \"15EiB\"")).unwrap_err();
    assert!(e.contains("past the thin's end (15EiB)"), "{e}");
    // A sequential write in a small span costs nothing per IO: only the overflow
    // of its byte count is refused.
    let seq = |n: u64| {
        load(&layer(&format!(
            "count = {n}\nspan = \"4KiB\"\noffset = \"0\""
        )))
    };
    assert!(seq((1 << 52) - 1).is_ok());
    assert!(seq(1 << 52).unwrap_err().contains("overflows 64 bits"));
    // A random write's IOs are simulated one by one: bounded.
    let e = load(&layer(
        "count = 67108865\npattern = \"random\"\nspan = \"1GiB\"\noffset = \"0\"",
    ))
    .unwrap_err();
    assert!(
        e.contains("p.toml:9:9: error: a random write of 67108865 IOs: at most 67108864"),
        "{e}"
    );
    assert!(load(&layer(
        "count = 67108864\npattern = \"random\"\nspan = \"1GiB\"\noffset = \"0\""
    ))
    .is_ok());
}

#[test]
fn durations_and_rates_take_the_one_grammar() {
    let tl = |t: &str| load(&format!("{OK}[timeline]\n{t}\n"));
    let f = tl("duration = \"2w\"\nstep = \"1d12h\"\nwrite_rate = \"1MiB/h\"").unwrap();
    assert_eq!(f.timeline.duration_s, 14 * DAY);
    assert_eq!(f.timeline.step_s, 36 * 3600);
    assert_eq!(f.timeline.write_rate_per_day, Bytes(24 * Bytes::MIB));
    let f = tl("write_rate = \"1GiB/2d\"").unwrap();
    assert_eq!(f.timeline.write_rate_per_day, Bytes(Bytes::GIB / 2));
    let e = tl("duration = \"1.5d\"").unwrap_err();
    assert!(
        e.contains("durations are whole numbers, not decimals\n  hint: use 36h"),
        "{e}"
    );
    let e = tl("step = \"6H\"").unwrap_err();
    assert!(e.contains("hint: did you mean `h`?"), "{e}");
    let e = tl("step = \"500ms\"").unwrap_err();
    assert!(e.contains("`step` must be whole seconds, not 500ms"), "{e}");
    let e = tl("write_rate = \"1.5GiB/d\"").unwrap_err();
    assert!(e.contains("hint: use 1536MiB"), "{e}");
}

#[test]
fn bounds_errors_say_the_bound() {
    let e = load(&format!("{OK}[image.churn]\nevery = \"0h\"\nreplace = 1\n")).unwrap_err();
    assert!(
        e.contains("error: `churn.every` must be above zero, not `0h`"),
        "{e}"
    );
    let e = load(&OK.replace("containers = 3", "containers = -1")).unwrap_err();
    assert!(
        e.contains("error: `containers` must be 0 to 16777216, not -1"),
        "{e}"
    );
    let e = load(&OK.replace("[pool]\n", "[pool]\nmin_free_space = \"120%\"\n")).unwrap_err();
    assert!(
        e.contains("error: `min_free_space` must be 0% to 99%, not 120%"),
        "{e}"
    );
    let e = load(&OK.replace("[pool]\n", "[pool]\nmetadata_size = \"1MiB\"\n")).unwrap_err();
    assert!(
        e.contains("error: `metadata_size` must be 2MiB to 16GiB, not 1MiB"),
        "{e}"
    );
}

#[test]
fn sizes_may_be_integers_of_bytes_as_in_scenarios() {
    let f = load(&OK.replace("\"10MiB\"", "10485760")).unwrap();
    assert_eq!(f.images[0].layers[0].bytes(), Bytes(10 * Bytes::MIB));
    let e = load(&OK.replace("\"100GiB\"", "\"100gib\"")).unwrap_err();
    assert!(e.contains("hint: did you mean `GiB`?"), "{e}");
}

#[test]
fn every_kind_of_mistake_is_reported_at_once() {
    let t = OK
        .replace("containers = 3", "containres = 3")
        .replace("\"10MiB\"", "true")
        .replace("\"random\"", "\"randon\"")
        .replace("[pool]\n", "[pool]\nchunk_size = \"100KiB\"\n");
    let e = load_fleet_str(Path::new("p.toml"), &t).unwrap_err();
    let shown: Vec<String> = e.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(e.errors.len(), 4, "{shown:#?}");
    assert!(
        shown[0].contains("chunk size 100KiB is not a multiple of 64KiB"),
        "{shown:#?}"
    );
    assert!(
        shown[1]
            .contains("unknown key `containres` in [[image]]\n  hint: did you mean `containers`?"),
        "{shown:#?}"
    );
    assert!(shown[2].contains("`bytes` must be a size"), "{shown:#?}");
    assert!(
        shown[3].contains("unknown pattern `randon`\n  hint: did you mean \"random\"?"),
        "{shown:#?}"
    );
    assert!(e.errors.iter().all(|e| e.line > 0), "{shown:#?}");
}

#[test]
fn a_scenario_file_is_named_as_one() {
    let e = load("format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n[[step]]\naction = \"create-thin\"\n").unwrap_err();
    assert!(e.contains("this is a scenario file"), "{e}");
    assert!(e.contains("`thinbench run FILE`"), "{e}");
    assert_eq!(e.lines().count(), 2, "{e}");
}

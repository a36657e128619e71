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
        e.starts_with("p.toml:4:1: error: unknown field `data_sise`"),
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
    assert!(e.errors[0].message.contains("unknown field"), "{e}");
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
fn durations_and_rates() {
    assert_eq!(parse_duration("90d"), Some(90 * DAY));
    assert_eq!(parse_duration("6h"), Some(6 * 3600));
    assert_eq!(parse_duration("6x"), None);
    assert_eq!(parse_rate("1GiB/d"), Some(Bytes(Bytes::GIB)));
    assert_eq!(parse_rate("1MiB/h"), Some(Bytes(24 * Bytes::MIB)));
}

//! What `validate` accepts, the run can do (tracker issue 16, item 8): thin ids as the
//! pools hand them out, lvm's sizing rules, expectations a step can observe. Each refusal
//! is asserted at its `file:line:col` and by its words.

use crate::scenario::load_scenario_str;
use std::path::Path;

/// The errors of `text`, as the command prints them (`t.toml:L:C: error: …\n  hint: …`).
fn errors(text: &str) -> Vec<String> {
    match load_scenario_str(Path::new("t.toml"), text) {
        Ok(p) => panic!("should fail: {p:#?}"),
        Err(e) => e.errors.iter().map(ToString::to_string).collect(),
    }
}

fn one(text: &str) -> String {
    let e = errors(text);
    assert_eq!(e.len(), 1, "{e:#?}");
    e.into_iter().next().unwrap_or_default()
}

fn ok(text: &str) {
    if let Err(e) = load_scenario_str(Path::new("t.toml"), text) {
        panic!("should load: {e}");
    }
}

/// `t.toml:L:C` of the value in the `n`th (0-based) line that starts with `key = `.
fn at(text: &str, key: &str, n: usize) -> String {
    let prefix = format!("{key} = ");
    let (line, l) = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with(&prefix))
        .nth(n)
        .unwrap_or_else(|| panic!("no line {n} of `{key}` in {text}"));
    let _ = l;
    format!("t.toml:{}:{}", line + 1, prefix.chars().count() + 1)
}

fn loop_pool(steps: &str) -> String {
    format!("format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n{steps}")
}

fn direct_pool(keys: &str, steps: &str) -> String {
    format!("format = 1\n[[pool]]\nname = \"d\"\nkind = \"direct-lvm\"\n{keys}\n{steps}")
}

fn create(thin: &str, extra: &str) -> String {
    format!("[[step]]\naction = \"create-thin\"\nthin = \"{thin}\"\nsize = \"16MiB\"\n{extra}")
}

// (a) Thin ids.

#[test]
fn a_thin_made_after_id_16777215_gets_a_free_id() {
    // The case: the run used to hand out 16777216 here.
    ok(&loop_pool(&format!(
        "{}{}",
        create("top", "id = 16777215\n"),
        create("next", "")
    )));
}

#[test]
fn an_explicit_id_a_live_thin_holds_is_refused_where_written() {
    // `a` takes the lowest free id, 1; `b` asks for it.
    let text = loop_pool(&format!("{}{}", create("a", ""), create("b", "id = 1\n")));
    let e = one(&text);
    assert!(
        e.starts_with(&format!("{}: error:", at(&text, "id", 0))),
        "{e}"
    );
    assert!(
        e.contains("thin id 1 is in use by thin `a` (step `step0-create-thin` made it)")
            && e.contains("EEXIST")
            && e.contains("lowest free id"),
        "{e}"
    );
    // Free again once `a` is deleted.
    ok(&loop_pool(&format!(
        "{}[[step]]\naction = \"delete-thin\"\nthin = \"a\"\n{}",
        create("a", ""),
        create("b", "id = 1\n")
    )));
    // A step there to see the refusal is what it says.
    ok(&loop_pool(&format!(
        "{}{}expect = {{ error = \"EEXIST\" }}\n",
        create("a", ""),
        create("b", "id = 1\n")
    )));
    // cow-overwrite's layers take ids too: base 1, c-1 2.
    let text = loop_pool(&format!(
        "{}[[step]]\nname = \"c\"\naction = \"cow-overwrite\"\norigin = \"base\"\nregion = \"128KiB\"\n{}",
        create("base", ""),
        create("x", "id = 2\n")
    ));
    let e = one(&text);
    assert!(
        e.starts_with(&format!("{}: error:", at(&text, "id", 0))),
        "{e}"
    );
    assert!(e.contains("thin id 2 is in use by thin `c-1`"), "{e}");
}

#[test]
fn an_explicit_id_on_direct_lvm_is_refused_where_written() {
    let text = direct_pool("", &create("t", "id = 5\n"));
    let e = one(&text);
    assert!(
        e.starts_with(&format!("{}: error:", at(&text, "id", 0))),
        "{e}"
    );
    assert!(
        e.contains("`id` 5 on a direct-lvm pool: lvm chooses thin ids"),
        "{e}"
    );
    ok(&direct_pool(
        "",
        &format!(
            "{}expect = {{ error = \"unsupported\" }}\n",
            create("t", "id = 5\n")
        ),
    ));
}

#[test]
fn metadata_fill_snapshots_hold_ids_and_names_no_step_can_use() {
    let mf = "[[step]]\nname = \"mf\"\naction = \"metadata-fill\"\nthin = \"o\"\nspan = \"4MiB\"\nsnapshots = 2\n";
    // o is 1, mf-1 and mf-2 are 2 and 3.
    let text = loop_pool(&format!(
        "{}{mf}{}",
        create("o", ""),
        create("x", "id = 3\n")
    ));
    let e = one(&text);
    assert!(
        e.starts_with(&format!("{}: error:", at(&text, "id", 0))),
        "{e}"
    );
    assert!(e.contains("thin id 3 is in use by thin `mf-2`"), "{e}");
    ok(&loop_pool(&format!(
        "{}{mf}{}",
        create("o", ""),
        create("x", "id = 4\n")
    )));
    let text = loop_pool(&format!(
        "{}{mf}[[step]]\naction = \"small-write\"\nthin = \"mf-1\"\ncount = 1\n",
        create("o", "")
    ));
    let e = one(&text);
    assert!(
        e.starts_with(&format!("{}: error:", at(&text, "thin", 2))),
        "{e}"
    );
    assert!(
        e.contains("thin `mf-1` is one of step `mf`'s metadata-fill snapshots"),
        "{e}"
    );
    let e = one(&loop_pool(&format!(
        "{}{mf}{}",
        create("o", ""),
        create("mf-2", "")
    )));
    assert!(e.contains("thin `mf-2` may already exist"), "{e}");
}

// (b) lvm's sizing rules.

#[test]
fn lvms_spare_metadata_lv_is_checked_for_metadata_percent() {
    // The issue's pool, with 2MiB extents: lvconvert's "insufficient free space (2
    // extents): 5 required" (measured with lvm 2.03.16).
    let keys =
        "device = \"loop\"\ndevice_size = \"256MiB\"\nextent_size = \"2MiB\"\nmetadata_percent = 4";
    let text = direct_pool(keys, &create("t", ""));
    let e = one(&text);
    assert!(
        e.starts_with(&format!("{}: error:", at(&text, "metadata_percent", 0))),
        "{e}"
    );
    assert!(
        e.contains("the data LV (95% = 120 extents), the metadata LV (4% = 5 extents) and lvm's spare copy of it (5 extents")
            && e.contains("need 130 of the VG's 127 2MiB extents")
            && e.contains("insufficient free space (2 extents): 5 required"),
        "{e}"
    );
    // At 4MiB the same percentages fit exactly: 59 + 2 + 2 of 63 extents.
    ok(&direct_pool(
        "device_size = \"256MiB\"\nmetadata_percent = 4",
        &create("t", ""),
    ));
    // With metadata_size, the same rule (at the size).
    let text = direct_pool(
        "device_size = \"256MiB\"\nmetadata_size = \"12MiB\"",
        &create("t", ""),
    );
    let e = one(&text);
    assert!(
        e.starts_with(&format!("{}: error:", at(&text, "metadata_size", 0))),
        "{e}"
    );
    assert!(e.contains("`metadata_size` 12MiB = 3 extents"), "{e}");
}

#[test]
fn lvms_metadata_floor_and_chunk_rules_are_checked() {
    // 2% of 63 1MiB extents is one: under lvm's 2MiB floor.
    let keys =
        "device_size = \"64MiB\"\nextent_size = \"1MiB\"\nthinpool_percent = 90\nmetadata_percent = 2";
    let text = direct_pool(keys, &create("t", ""));
    let e = one(&text);
    assert!(
        e.starts_with(&format!("{}: error:", at(&text, "metadata_percent", 0))),
        "{e}"
    );
    assert!(
        e.contains("the metadata LV (2% = 1 extents, 1MiB) is below lvm's 2MiB floor"),
        "{e}"
    );
    // A chunk bigger than the data LV.
    let keys = "device_size = \"64MiB\"\nchunk_size = \"64MiB\"\nthinpool_percent = 90\nmetadata_percent = 9";
    let text = direct_pool(keys, &create("t", ""));
    let e = one(&text);
    assert!(
        e.starts_with(&format!("{}: error:", at(&text, "thinpool_percent", 0))),
        "{e}"
    );
    assert!(
        e.contains("is smaller than one 64MiB chunk: lvconvert would refuse the pool"),
        "{e}"
    );
    // A metadata LV that does not fit beside the data LV at all (lvcreate -L).
    let text = direct_pool(
        "device_size = \"64MiB\"\nextent_size = \"1MiB\"\nmetadata_size = \"5MiB\"",
        &create("t", ""),
    );
    let e = one(&text);
    assert!(
        e.starts_with(&format!("{}: error:", at(&text, "metadata_size", 0))),
        "{e}"
    );
    assert!(e.contains("leaves 4 of the VG's 63 1MiB extents"), "{e}");
    // An extent bigger than the device.
    let text = direct_pool(
        "device_size = \"64MiB\"\nextent_size = \"1GiB\"",
        &create("t", ""),
    );
    let e = one(&text);
    assert!(
        e.starts_with(&format!("{}: error:", at(&text, "extent_size", 0))),
        "{e}"
    );
    assert!(e.contains("holds no 1GiB lvm extent"), "{e}");
}

// (c) Expectations a step can observe.

#[test]
fn an_expectation_a_step_cannot_observe_names_the_action_and_what_it_can() {
    // The case.
    let text = loop_pool(&format!(
        "{}[[step]]\naction = \"cow-overwrite\"\norigin = \"t\"\nregion = \"128KiB\"\n[step.expect]\nerrors = 0\n",
        create("t", "")
    ));
    let e = one(&text);
    assert!(
        e.starts_with(&format!("{}: error:", at(&text, "errors", 0))),
        "{e}"
    );
    assert!(
        e.contains(
            "`errors` reads the workload's IO error count, which cow-overwrite steps do not record"
        ),
        "{e}"
    );
    let hint = e.split("hint: ").nth(1).unwrap_or_default();
    assert!(
        hint.starts_with("cow-overwrite steps can expect: data_blocks_allocated (a number), mode")
            && !hint.contains("errors")
            && !hint.contains("chunks-touched"),
        "{hint}"
    );
    // fio's report counts chunks no more than it names an errno.
    let fio = |expect: &str| {
        loop_pool(&format!(
            "{}[[step]]\naction = \"io\"\nthin = \"t\"\nengine = \"fio\"\nrw = \"write\"\ncount = 4\n[step.expect]\n{expect}\n",
            create("t", "")
        ))
    };
    let text = fio("data_blocks_allocated = \"chunks-touched\"");
    let e = one(&text);
    assert!(
        e.starts_with(&format!(
            "{}: error:",
            at(&text, "data_blocks_allocated", 0)
        )),
        "{e}"
    );
    assert!(
        e.contains("which io steps with `engine = \"fio\"` do not record")
            && e.contains("errors, p50_at_least"),
        "{e}"
    );
    assert!(one(&fio("first_error = \"ENOSPC\"")).contains("`first_error` reads"));
    ok(&fio("errors = 0\np50_at_least = \"0s\""));
    // metadata-fill sums its phases' figures but not their latencies.
    let mf = |expect: &str| {
        loop_pool(&format!(
            "{}[[step]]\naction = \"metadata-fill\"\nthin = \"t\"\nspan = \"4MiB\"\n[step.expect]\n{expect}\n",
            create("t", "")
        ))
    };
    assert!(one(&mf("p50_at_least = \"1ms\"")).contains("which metadata-fill steps do not record"));
    ok(&mf(
        "errors = 0\nfirst_error = \"EIO\"\ndata_blocks_allocated = \"chunks-touched\"",
    ));
    // Every figure of a small-write.
    ok(&loop_pool(&format!(
        "{}[[step]]\naction = \"small-write\"\nthin = \"t\"\ncount = 1\n[step.expect]\nerrors = 0\nfirst_error = \"EIO\"\np50_at_least = \"0s\"\ndata_blocks_allocated = \"chunks-touched\"\n",
        create("t", "")
    )));
}

// Found by the grammar test (`runner::fake_runs::grammar`): settings the pool's chunk
// decides, which the run used to refuse.

#[test]
fn cow_overwrite_and_metadata_fill_settings_fit_the_pools_chunk() {
    let chunky = |steps: &str| {
        format!(
            "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\nchunk_size = \"128KiB\"\n{}{steps}",
            create("t", "")
        )
    };
    let cow = |keys: &str| {
        chunky(&format!(
            "[[step]]\naction = \"cow-overwrite\"\norigin = \"t\"\n{keys}\n"
        ))
    };
    let text = cow("region = \"128KiB\"");
    let e = one(&text);
    assert!(
        e.starts_with(&format!("{}: error:", at(&text, "region", 0))),
        "{e}"
    );
    assert!(
        e.contains("`region` 128KiB is not a multiple of two of the pool's 128KiB chunks"),
        "{e}"
    );
    let text = cow("region = \"256KiB\"\noffset = \"64KiB\"");
    let e = one(&text);
    assert!(
        e.starts_with(&format!("{}: error:", at(&text, "offset", 0))),
        "{e}"
    );
    assert!(
        e.contains("`offset` 64KiB is not a multiple of the pool's 128KiB chunk"),
        "{e}"
    );
    for io in ["128KiB", "48KiB"] {
        let text = cow(&format!("region = \"256KiB\"\nio_size = \"{io}\""));
        let e = one(&text);
        assert!(
            e.starts_with(&format!("{}: error:", at(&text, "io_size", 0))),
            "{e}"
        );
        assert!(
            e.contains("must be a divisor of the pool's chunk below it"),
            "{e}"
        );
    }
    ok(&cow(
        "region = \"256KiB\"\noffset = \"128KiB\"\nio_size = \"32KiB\"",
    ));
    // The default chunk (64KiB) takes what 128KiB does not.
    ok(&loop_pool(&format!(
        "{}[[step]]\naction = \"cow-overwrite\"\norigin = \"t\"\nregion = \"128KiB\"\noffset = \"64KiB\"\n",
        create("t", "")
    )));
    let text = chunky(
        "[[step]]\naction = \"metadata-fill\"\nthin = \"t\"\nspan = \"4MiB\"\nio_size = \"96KiB\"\n",
    );
    let e = one(&text);
    assert!(
        e.starts_with(&format!("{}: error:", at(&text, "io_size", 0))),
        "{e}"
    );
    assert!(
        e.contains("(one IO maps one chunk), and the chunk is 128KiB"),
        "{e}"
    );
}

/// "chunks-touched" counts chunks first written in a thin: where a written origin and its
/// snapshot share blocks, a write copies without a first touch, so the expectation would
/// undercount (tracker issue 17, "Semantics"). Refused there, at the value; accepted on a
/// snapshot of an origin never written, which shares nothing.
#[test]
fn chunks_touched_is_refused_where_a_snapshot_relation_shares_written_blocks() {
    let steps = |write_origin: bool| {
        format!(
            "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
             [[step]]\naction = \"create-thin\"\nthin = \"o\"\nsize = \"64MiB\"\n{}\
             [[step]]\naction = \"snapshot\"\nthin = \"s\"\norigin = \"o\"\n\
             [[step]]\naction = \"small-write\"\nthin = \"s\"\ncount = 8\n\
             [step.expect]\ndata_blocks_allocated = \"chunks-touched\"\n",
            if write_origin {
                "[[step]]\naction = \"small-write\"\nthin = \"o\"\ncount = 8\n"
            } else {
                ""
            }
        )
    };
    ok(&steps(false));
    let text = steps(true);
    let e = one(&text);
    assert!(
        e.starts_with(&at(&text, "data_blocks_allocated", 0))
            && e.contains("thin `s` shares blocks with a snapshot relation"),
        "{e}"
    );
}

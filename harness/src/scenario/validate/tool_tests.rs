//! `metadata-tool`'s validation: defaults, the keys each tool takes, the refusal a
//! writing tool on live metadata must expect, and `same_as` naming an earlier dump.

use super::test_support::{ok, one};
use crate::spec::{Action, GeneratedLayout, MetadataSource, MetadataTool};

/// A loop-lvm pool `p` with thins `a` and its snapshot `s`, then `rest`.
fn two_thins(rest: &str) -> String {
    format!(
        "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
         [[step]]\naction = \"create-thin\"\nthin = \"a\"\nsize = \"64MiB\"\n\
         [[step]]\naction = \"snapshot\"\nthin = \"s\"\norigin = \"a\"\n{rest}"
    )
}

#[test]
fn defaults_and_a_delta() {
    let s = ok(&two_thins(
        "[[step]]\nname = \"d1\"\naction = \"metadata-tool\"\ntool = \"thin_dump\"\n\
         [[step]]\naction = \"metadata-tool\"\ntool = \"thin_dump\"\nsame_as = \"d1\"\n\
         [[step]]\naction = \"metadata-tool\"\ntool = \"thin_delta\"\norigin = \"a\"\nthin = \"s\"\n",
    ));
    let Action::MetadataTool(m) = &s.steps[2].action else {
        panic!()
    };
    assert_eq!(
        (m.tool, m.metadata),
        (MetadataTool::Dump, MetadataSource::Snapshot)
    );
    let Action::MetadataTool(m) = &s.steps[3].action else {
        panic!()
    };
    assert_eq!(m.same_as.as_ref().map(|i| i.as_str()), Some("d1"));
    let Action::MetadataTool(m) = &s.steps[4].action else {
        panic!()
    };
    assert_eq!(
        (
            m.tool,
            m.origin.as_ref().map(|i| i.as_str()),
            m.thin.as_ref().map(|i| i.as_str())
        ),
        (MetadataTool::Delta, Some("a"), Some("s"))
    );
}

#[test]
fn a_writing_tool_on_live_metadata_must_expect_its_refusal() {
    let e = one(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_restore\"\nmetadata = \"live\"\n",
    ));
    assert!(
        e.contains("t.toml:15:1: error: thin_restore on the live metadata must expect its refusal"),
        "{e}"
    );
    ok(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_trim\"\nmetadata = \"live\"\nexpect.error = \"refused\"\n",
    ));
    // A reading tool may run on live metadata without saying so (the check is then
    // that it ran); a writing one never reads a snapshot.
    ok(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_dump\"\nmetadata = \"live\"\n",
    ));
    let e = one(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_repair\"\n",
    ));
    assert!(
        e.contains("thin_repair does not read a metadata snapshot"),
        "{e}"
    );
}

#[test]
fn keys_of_other_tools_and_bad_references_are_refused_where_written() {
    let e = one(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_dump\"\nthin = \"a\"\n",
    ));
    assert!(
        e.contains("t.toml:16:1: error: `thin` is a key of thin_delta"),
        "{e}"
    );
    let e = one(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_delta\"\nthin = \"s\"\n",
    ));
    assert!(e.contains("metadata-tool step has no `origin`"), "{e}");
    let e = one(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_delta\"\norigin = \"a\"\nthin = \"nope\"\n",
    ));
    assert!(e.contains("nope"), "{e}");
    let e = one(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_ls\"\nsame_as = \"x\"\n",
    ));
    assert!(e.contains("`same_as` is a key of thin_dump"), "{e}");
    let e = one(&two_thins(
        "[[step]]\nname = \"d2\"\naction = \"metadata-tool\"\ntool = \"thin_dump\"\nsame_as = \"d1\"\n\
         [[step]]\nname = \"d1\"\naction = \"metadata-tool\"\ntool = \"thin_dump\"\n",
    ));
    assert!(
        e.contains("`same_as` names no earlier thin_dump step `d1`")
            && e.contains("no thin_dump step comes before this one"),
        "{e}"
    );
    let e = one(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_dumb\"\n",
    ));
    assert!(e.contains("did you mean \"thin_dump\"?"), "{e}");
}

#[test]
fn restore_needs_an_earlier_dump_and_inactive_metadata_is_loop_lvm_only() {
    let s = ok(&two_thins(
        "[[step]]\nname = \"d\"\naction = \"metadata-tool\"\ntool = \"thin_dump\"\nmetadata = \"inactive\"\n\
         [[step]]\naction = \"metadata-tool\"\ntool = \"thin_restore\"\nmetadata = \"inactive\"\nfrom = \"d\"\n",
    ));
    let Action::MetadataTool(m) = &s.steps[3].action else {
        panic!()
    };
    assert_eq!(
        (m.tool, m.metadata, m.from.as_ref().map(|i| i.as_str())),
        (MetadataTool::Restore, MetadataSource::Inactive, Some("d"))
    );
    let e = one(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_restore\"\nmetadata = \"inactive\"\n",
    ));
    assert!(e.contains("thin_restore step has no `from`"), "{e}");
    let e = one(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_restore\"\nmetadata = \"inactive\"\nfrom = \"later\"\n\
         [[step]]\nname = \"later\"\naction = \"metadata-tool\"\ntool = \"thin_dump\"\n",
    ));
    assert!(
        e.contains("`from` names no earlier thin_dump step `later`"),
        "{e}"
    );
    let e = one(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_dump\"\nfrom = \"x\"\n",
    ));
    assert!(e.contains("`from` is a key of thin_restore"), "{e}");
    let direct = "format = 1\n[[pool]]\nname = \"d\"\nkind = \"direct-lvm\"\n\
         [[step]]\naction = \"metadata-tool\"\ntool = \"thin_check\"\nmetadata = \"inactive\"\n";
    let e = one(direct);
    assert!(
        e.contains("not yet: the metadata tools on a direct-lvm pool's inactive metadata"),
        "{e}"
    );
    ok(&format!("{direct}expect.error = \"unsupported\"\n"));
}

#[test]
fn damage_is_of_the_inactive_metadata_only() {
    let s = ok(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_repair\"\nmetadata = \"inactive\"\ndamage_at = \"40960\"\nseed = 2\n",
    ));
    let Action::MetadataTool(m) = &s.steps[2].action else {
        panic!()
    };
    let d = m.damage.expect("damage");
    assert_eq!((d.at.0, d.len.0, d.seed), (40960, 512, 2));
    let e = one(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_dump\"\ndamage_at = \"4KiB\"\n",
    ));
    assert!(
        e.contains("`damage_at` damages the inactive metadata"),
        "{e}"
    );
    let e = one(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_check\"\nmetadata = \"inactive\"\ndamage_bytes = \"1KiB\"\n",
    ));
    assert!(e.contains("`damage_bytes` goes with `damage_at`"), "{e}");
    let e = one(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_repair\"\nmetadata = \"inactive\"\ndamage_at = \"0\"\ndamage_bytes = \"2MiB\"\n",
    ));
    assert!(e.contains("damage_bytes"), "{e}");
}

/// A loop-lvm pool `p` with no thins, then `rest`.
fn no_thins(rest: &str) -> String {
    format!("format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n{rest}")
}

const GENERATE: &str = "[[step]]\nname = \"g\"\naction = \"metadata-tool\"\ntool = \"thin_restore\"\n\
     metadata = \"inactive\"\ngenerate = \"random\"\nthins = [\"g0\", \"g1\"]\nsize = \"16MiB\"\nseed = 9\n";

#[test]
fn generated_metadata_makes_its_thins_on_a_pool_without_any() {
    let s = ok(&no_thins(&format!(
        "{GENERATE}[[step]]\naction = \"small-write\"\nthin = \"g1\"\nbytes = \"1MiB\"\n"
    )));
    let Action::MetadataTool(m) = &s.steps[0].action else {
        panic!()
    };
    let g = m.generate.as_ref().unwrap();
    assert_eq!(
        (g.layout, g.thins.len(), g.size.0, g.seed),
        (GeneratedLayout::Random, 2, 16 << 20, 9)
    );
    // With a thin alive, the walk refuses it at `generate`.
    let e = one(&two_thins(GENERATE));
    assert!(
        e.contains("generated metadata replaces every thin, and the pool has a, s"),
        "{e}"
    );
    // Its names are taken afterwards.
    let e = one(&no_thins(&format!(
        "{GENERATE}[[step]]\naction = \"create-thin\"\nthin = \"g0\"\nsize = \"1MiB\"\n"
    )));
    assert!(e.contains("thin `g0` already exists"), "{e}");
}

#[test]
fn generate_keys_are_checked_where_written() {
    let e = one(&no_thins(
        "[[step]]\nname = \"x\"\naction = \"metadata-tool\"\ntool = \"thin_dump\"\nmetadata = \"inactive\"\n\
         [[step]]\naction = \"metadata-tool\"\ntool = \"thin_restore\"\nmetadata = \"inactive\"\nthins = [\"a\"]\nfrom = \"x\"\n",
    ));
    assert!(e.contains("`thins` goes with `generate`"), "{e}");
    let e = one(&no_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_dump\"\ngenerate = \"linear\"\nthins = [\"a\"]\nsize = \"1MiB\"\n",
    ));
    assert!(
        e.contains("`generate` is for thin_restore on the inactive metadata"),
        "{e}"
    );
    let e = one(&no_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_restore\"\nmetadata = \"inactive\"\ngenerate = \"linear\"\nsize = \"1MiB\"\n",
    ));
    assert!(e.contains("generated metadata has no `thins`"), "{e}");
    let e = one(&no_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_ls\"\nrepair = true\n",
    ));
    assert!(
        e.contains("`repair` is a key of thin_dump on the inactive metadata"),
        "{e}"
    );
    let s = ok(&two_thins(
        "[[step]]\naction = \"metadata-tool\"\ntool = \"thin_dump\"\nmetadata = \"inactive\"\nrepair = true\ndamage_at = \"40960\"\n",
    ));
    let Action::MetadataTool(m) = &s.steps[2].action else {
        panic!()
    };
    assert!(m.repair && m.damage.is_some());
}

#[test]
fn a_reboot_while_a_snapshot_is_held_is_refused_where_written() {
    let e = one(&two_thins(
        "[[step]]\nname = \"hold\"\naction = \"message\"\ntext = \"reserve_metadata_snap\"\n\
         [[step]]\naction = \"reboot\"\n",
    ));
    assert!(
        e.contains("a reboot while step `hold` holds a metadata snapshot"),
        "{e}"
    );
    ok(&two_thins(
        "[[step]]\nname = \"hold\"\naction = \"message\"\ntext = \"reserve_metadata_snap\"\n\
         [[step]]\naction = \"message\"\ntext = \"release_metadata_snap\"\n\
         [[step]]\naction = \"reboot\"\n",
    ));
}

#[test]
fn the_pool_goes_down_only_without_devices_over_it() {
    let e = one(&two_thins(
        "[[step]]\naction = \"create-device\"\ndevice = \"l\"\nover = [\"a\"]\nsize = \"16MiB\"\n\
         [[step]]\naction = \"metadata-tool\"\ntool = \"thin_dump\"\nmetadata = \"inactive\"\n",
    ));
    assert!(
        e.contains("a metadata tool on the inactive metadata takes the pool down, and device `l` is made over thins"),
        "{e}"
    );
}

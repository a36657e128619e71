//! The filesystem steps' validation: values and defaults, untrusted paths refused at the
//! key, stamps, and the walk's mounted state (each refusal at its position).

use super::test_support::{ok, one};
use crate::spec::{Action, FileOp, FsKind, MkfsProfile};

/// A loop-lvm pool `p`, a 64MiB thin `t` with ext4, mounted, then `rest`.
fn mounted(rest: &str) -> String {
    format!(
        "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
         [[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"64MiB\"\n\
         [[step]]\naction = \"mkfs\"\nthin = \"t\"\n\
         [[step]]\naction = \"mount\"\nthin = \"t\"\n{rest}"
    )
}

#[test]
fn defaults_and_values() {
    let s = ok(&mounted(
        "[[step]]\naction = \"file\"\nthin = \"t\"\npath = \"a/id.txt\"\nop = \"write\"\n\
         [[step]]\naction = \"file\"\nthin = \"t\"\npath = \"a/id.txt\"\nop = \"rename\"\nnew_path = \"b.txt\"\nfsync = false\n\
         [[step]]\naction = \"verify-files\"\nthin = \"t\"\ncontents = { \"b.txt\" = [\"step3-file@t\"] }\nabsent = [\"a/id.txt\"]\n",
    ));
    let Action::Mkfs(m) = &s.steps[1].action else {
        panic!()
    };
    assert_eq!((m.fs, m.profile), (FsKind::Ext4, MkfsProfile::Docker));
    let Action::File(f) = &s.steps[3].action else {
        panic!()
    };
    assert_eq!(
        f.op,
        FileOp::Write {
            size: thinbench_schema::units::Bytes(4096)
        }
    );
    assert!(f.fsync);
    let Action::File(f) = &s.steps[4].action else {
        panic!()
    };
    assert_eq!(
        (f.op.clone(), f.fsync),
        (FileOp::Rename { to: "b.txt".into() }, false)
    );
    let Action::VerifyFiles(v) = &s.steps[5].action else {
        panic!()
    };
    assert_eq!(
        v.contents,
        vec![("b.txt".to_owned(), vec!["step3-file@t".to_owned()])]
    );
    assert_eq!(v.absent, vec!["a/id.txt".to_owned()]);
}

#[test]
fn untrusted_paths_are_refused_at_the_key() {
    for (path, why) in [
        ("/etc/passwd", "`path` is absolute"),
        ("../x", "`path` has a `..` component"),
        ("a/../../x", "`path` has a `..` component"),
        ("a//b", "empty or `.` component"),
        ("./a", "empty or `.` component"),
        ("a/", "empty or `.` component"),
        ("", "`path` is empty"),
    ] {
        let e = one(&mounted(&format!(
            "[[step]]\naction = \"file\"\nthin = \"t\"\npath = \"{path}\"\nop = \"delete\"\n"
        )));
        assert!(
            e.starts_with("t.toml:18:8: error: ") && e.contains(why),
            "{path}: {e}"
        );
        assert!(e.contains("the mount point is thinbench's own"), "{e}");
    }
    let e = one(&mounted(
        "[[step]]\naction = \"file\"\nthin = \"t\"\npath = \"a\"\nop = \"rename\"\nnew_path = \"/tmp/x\"\n",
    ));
    assert!(e.contains("`new_path` is absolute"), "{e}");
    let e = one(&mounted(
        "[[step]]\naction = \"verify-files\"\nthin = \"t\"\nabsent = [\"../x\"]\n",
    ));
    assert!(e.contains("`absent` has a `..` component"), "{e}");
}

#[test]
fn keys_and_stamps() {
    let e = one(&mounted(
        "[[step]]\naction = \"file\"\nthin = \"t\"\npath = \"a\"\nop = \"delete\"\nsize = \"1KiB\"\n",
    ));
    assert!(
        e.contains("`size` is not a key of `op = \"delete\"`"),
        "{e}"
    );
    let e = one(&mounted(
        "[[step]]\naction = \"file\"\nthin = \"t\"\npath = \"a\"\n",
    ));
    assert!(e.contains("file step has no `op`"), "{e}");
    let e = one(&mounted(
        "[[step]]\naction = \"file\"\nthin = \"t\"\npath = \"a\"\nop = \"write\"\nsize = 100\n",
    ));
    assert!(e.contains("size"), "{e}");
    let e = one(&mounted(
        "[[step]]\naction = \"verify-files\"\nthin = \"t\"\ncontents = { \"a\" = [\"nostamp\"] }\n",
    ));
    assert!(e.contains("`nostamp` is not a stamp `step@thin`"), "{e}");
    let e = one(&mounted(
        "[[step]]\naction = \"verify-files\"\nthin = \"t\"\ncontents = { \"a\" = [\"w@t\"] }\nabsent = [\"a\"]\n",
    ));
    assert!(e.contains("claimed both absent and with contents"), "{e}");
    let e = one(&mounted(
        "[[step]]\naction = \"umount\"\nthin = \"t\"\nnouuid = true\n",
    ));
    assert!(e.contains("`nouuid` is not a key of umount steps"), "{e}");
}

#[test]
fn the_walk_knows_what_is_mounted() {
    // Not mounted: file, verify-files and umount are refused at the thin.
    let base = "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
                [[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"64MiB\"\n";
    let e = one(&format!(
        "{base}[[step]]\naction = \"mount\"\nthin = \"t\"\n"
    ));
    assert!(e.contains("thin `t` has no filesystem here"), "{e}");
    let e = one(&format!(
        "{base}[[step]]\naction = \"mkfs\"\nthin = \"t\"\n[[step]]\naction = \"file\"\nthin = \"t\"\npath = \"a\"\nop = \"write\"\n"
    ));
    assert!(
        e.contains("thin `t` is not mounted here") && e.contains("add a `mount` step"),
        "{e}"
    );
    // Mounted: delete-thin, deactivate, mkfs, fsck and a second mount are refused.
    for (action, what) in [
        ("delete-thin", "cannot be deleted"),
        ("deactivate", "cannot be deactivated"),
        ("mkfs", "cannot be formatted"),
        ("fsck", "fsck reads an unmounted filesystem"),
        ("mount", "is already mounted by step `step2-mount`"),
    ] {
        let e = one(&mounted(&format!(
            "[[step]]\naction = \"{action}\"\nthin = \"t\"\n"
        )));
        assert!(e.contains(what), "{action}: {e}");
    }
    // A snapshot has its origin's filesystem, unmounted; ext4 takes no nouuid.
    ok(&mounted(
        "[[step]]\naction = \"snapshot\"\nthin = \"s\"\norigin = \"t\"\n\
         [[step]]\naction = \"mount\"\nthin = \"s\"\n\
         [[step]]\naction = \"umount\"\nthin = \"s\"\n\
         [[step]]\naction = \"fsck\"\nthin = \"s\"\n",
    ));
    let e = one(&mounted(
        "[[step]]\naction = \"snapshot\"\nthin = \"s\"\norigin = \"t\"\n\
         [[step]]\naction = \"mount\"\nthin = \"s\"\nnouuid = true\n",
    ));
    assert!(e.contains("`nouuid` is an xfs mount option"), "{e}");
    // The shipped demo validates.
    let demo = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scenarios/thin-snapshot-demo.toml"),
    )
    .unwrap();
    ok(&demo);
}

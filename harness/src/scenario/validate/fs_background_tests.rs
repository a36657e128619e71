//! Background `file` writes, their layouts and `await_mode`: what validates, and each
//! refusal at its position.

use super::test_support::{ok, one};
use crate::spec::{Action, FileLayout, FileOrder};
use thinbench_schema::record::PoolMode;
use thinbench_schema::units::Bytes;

/// A loop-lvm pool `p`, a 64MiB thin `t` with ext4, mounted, and a thin `u`; `rest`
/// begins at line 18.
fn mounted(rest: &str) -> String {
    format!(
        "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
         [[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"64MiB\"\n\
         [[step]]\naction = \"mkfs\"\nthin = \"t\"\n\
         [[step]]\naction = \"mount\"\nthin = \"t\"\n\
         [[step]]\naction = \"create-thin\"\nthin = \"u\"\n{rest}"
    )
}

/// A background write of `path` on `t`, named `name` (9 lines).
fn bg(name: &str, path: &str) -> String {
    format!(
        "[[step]]\nname = \"{name}\"\naction = \"file\"\nthin = \"t\"\npath = \"{path}\"\nop = \"write\"\nsize = \"1MiB\"\nio_size = \"64KiB\"\nbackground = true\n"
    )
}

fn wait(step: &str) -> String {
    format!("[[step]]\naction = \"wait\"\nstep = \"{step}\"\n")
}

#[test]
fn parallel_files_on_one_filesystem_and_config_changes_beside_them_validate() {
    let s = ok(&mounted(&format!(
        "{}[[step]]\nname = \"r\"\naction = \"file\"\nthin = \"t\"\npath = \"r\"\nop = \"write\"\nsize = \"1MiB\"\nio_size = \"4KiB\"\npattern = \"random\"\nseed = 5\nbackground = true\n\
         [[step]]\naction = \"snapshot\"\nthin = \"s\"\norigin = \"u\"\n\
         [[step]]\naction = \"delete-thin\"\nthin = \"s\"\n\
         [[step]]\naction = \"create-thin\"\nthin = \"v\"\nsize = \"8MiB\"\n\
         [[step]]\naction = \"resize\"\ndevice = \"data\"\nby = \"8MiB\"\nawait_mode = \"rw\"\n\
         {}{}[[step]]\naction = \"verify-files\"\nthin = \"t\"\n",
        bg("seq", "d/seq"),
        wait("seq"),
        wait("r")
    )));
    let Action::File(f) = &s.steps[4].action else {
        panic!("{:?}", s.steps[4].action)
    };
    assert!(f.background);
    assert_eq!(
        f.layout,
        Some(FileLayout {
            record: Bytes(64 << 10),
            order: FileOrder::Sequential
        })
    );
    let Action::File(f) = &s.steps[5].action else {
        panic!()
    };
    assert_eq!(
        f.layout,
        Some(FileLayout {
            record: Bytes(4096),
            order: FileOrder::Random { seed: 5 }
        })
    );
    assert_eq!(s.steps[9].await_mode, Some(PoolMode::Rw));
    assert_eq!(s.steps[8].await_mode, None);
    // A foreground write without `io_size` is one record, as before.
    let s = ok(&mounted(
        "[[step]]\naction = \"file\"\nthin = \"t\"\npath = \"a\"\nop = \"write\"\n",
    ));
    let Action::File(f) = &s.steps[4].action else {
        panic!()
    };
    assert_eq!((f.layout, f.background), (None, false));
}

#[test]
fn two_background_writes_of_one_file_are_refused_at_the_second() {
    let e = one(&mounted(&format!(
        "{}{}{}{}",
        bg("a", "f"),
        bg("b", "f"),
        wait("a"),
        wait("b")
    )));
    // The second write's `thin` (line 18 + 9 + 3).
    assert!(e.starts_with("t.toml:30:8: error: background step `a` writes file `f` of thin `t` too until its `wait`"), "{e}");
}

#[test]
fn nothing_else_names_a_thin_a_background_file_write_writes() {
    let e = one(&mounted(&format!(
        "{}[[step]]\naction = \"umount\"\nthin = \"t\"\n{}",
        bg("a", "f"),
        wait("a")
    )));
    assert!(
        e.starts_with(
            "t.toml:29:8: error: thin `t` is written by background step `a` until its `wait`"
        ),
        "{e}"
    );
    // Below the filesystem: a block write in the background, then a file write on it.
    let e = one(&mounted(&format!(
        "[[step]]\nname = \"w\"\naction = \"small-write\"\nthin = \"t\"\ncount = 4\nbackground = true\n{}{}{}",
        bg("a", "f"),
        wait("w"),
        wait("a")
    )));
    assert!(
        e.starts_with(
            "t.toml:27:8: error: background step `w` writes thin `t` below its filesystem"
        ),
        "{e}"
    );
}

#[test]
fn layout_and_background_keys_are_a_writes_only_each_refused_at_its_key() {
    let e = one(&mounted(
        "[[step]]\naction = \"file\"\nthin = \"t\"\npath = \"f\"\nop = \"append\"\nbackground = true\n",
    ));
    assert!(
        e.starts_with("t.toml:23:1: error: `background` is not a key of `op = \"append\"`"),
        "{e}"
    );
    let e = one(&mounted(
        "[[step]]\naction = \"file\"\nthin = \"t\"\npath = \"f\"\nop = \"write\"\nsize = \"100KiB\"\nio_size = \"64KiB\"\n",
    ));
    assert!(
        e.starts_with("t.toml:24:1: error: `size` is 100KiB, not a multiple of `io_size` (64KiB)"),
        "{e}"
    );
    let e = one(&mounted(
        "[[step]]\naction = \"file\"\nthin = \"t\"\npath = \"f\"\nop = \"write\"\npattern = \"random\"\n",
    ));
    assert!(
        e.starts_with("t.toml:23:1: error: `pattern` orders a layout's records, and the file step has no `io_size`"),
        "{e}"
    );
    let e = one(&mounted(
        "[[step]]\naction = \"file\"\nthin = \"t\"\npath = \"f\"\nop = \"write\"\nio_size = \"4KiB\"\nseed = 3\n",
    ));
    assert!(
        e.starts_with("t.toml:24:1: error: `seed` only applies to `pattern = \"random\"`"),
        "{e}"
    );
    let e = one(&mounted(
        "[[step]]\naction = \"file\"\nthin = \"t\"\npath = \"f\"\nop = \"write\"\nio_size = \"1KiB\"\n",
    ));
    assert!(e.starts_with("t.toml:23:11: error: `io_size`"), "{e}");
}

#[test]
fn a_background_file_write_takes_no_expectations_and_is_waited_for() {
    let e = one(&mounted(&format!(
        "{}expect.mode = \"rw\"\n{}",
        bg("a", "f"),
        wait("a")
    )));
    assert!(e.contains("no expectations of its own"), "{e}");
    let e = one(&mounted(&bg("a", "f")));
    assert!(
        e.starts_with("t.toml:19:8: error: background step `a` is never waited for"),
        "{e}"
    );
}

#[test]
fn await_mode_needs_io_in_flight_and_a_mode() {
    let e = one(&mounted(
        "[[step]]\naction = \"resize\"\ndevice = \"data\"\nby = \"8MiB\"\nawait_mode = \"out_of_data_space\"\n",
    ));
    assert!(
        e.starts_with("t.toml:22:1: error: `await_mode` waits for a background step's IO to change the pool's mode, and no background step is in flight here"),
        "{e}"
    );
    let e = one(&mounted(&format!(
        "{}[[step]]\naction = \"resize\"\ndevice = \"data\"\nby = \"8MiB\"\nawait_mode = \"full\"\n{}",
        bg("a", "f"),
        wait("a")
    )));
    assert!(
        e.starts_with("t.toml:31:14: error: `await_mode` must be one of \"rw\", \"ro\", \"out_of_data_space\", \"Fail\", \"Error\", not \"full\""),
        "{e}"
    );
}

#[test]
fn chunks_touched_beside_a_background_writer_is_refused_at_validation() {
    let e = one(&mounted(&format!(
        "{}[[step]]\naction = \"small-write\"\nthin = \"u\"\ncount = 4\nexpect.data_blocks_allocated = \"chunks-touched\"\n{}",
        bg("a", "f"),
        wait("a")
    )));
    assert!(
        e.starts_with("t.toml:31:32: error: \"chunks-touched\" cannot be checked here: background step `a` allocates in the pool until its `wait`"),
        "{e}"
    );
}

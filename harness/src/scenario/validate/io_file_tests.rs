//! `io` with `path`: fio on a file of a mounted filesystem, what validates and each
//! refusal at its position.

use super::test_support::{ok, one};
use crate::spec::{Action, FsTarget, IoEngineSpec, IoTarget};
use thinbench_schema::ids::Ident;

/// A thin `t` with ext4, mounted (lines 1 to 13), then `rest`.
fn mounted(rest: &str) -> String {
    format!(
        "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
         [[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"64MiB\"\n\
         [[step]]\naction = \"mkfs\"\nthin = \"t\"\n\
         [[step]]\naction = \"mount\"\nthin = \"t\"\n{rest}"
    )
}

const FIO: &str = "[[step]]\naction = \"io\"\nthin = \"t\"\nengine = \"fio\"\npath = \"d/f.dat\"\nrw = \"randwrite\"\nspan = \"8MiB\"\ncount = 64\n";

#[test]
fn fio_on_a_file_of_a_mounted_filesystem_validates() {
    let s = ok(&mounted(FIO));
    let Action::Io(io) = &s.steps[3].action else {
        panic!("io")
    };
    assert_eq!(
        io.target,
        IoTarget::File {
            on: FsTarget::Thin(Ident::new("t").unwrap()),
            path: "d/f.dat".into()
        }
    );
    assert!(matches!(io.engine, IoEngineSpec::FioShape(_)));
}

#[test]
fn fio_on_a_file_needs_fio_a_size_a_safe_path_and_a_mount() {
    let e = one(&mounted(
        &FIO.replace("engine = \"fio\"", "engine = \"thinbench\""),
    ));
    assert!(
        e.starts_with("t.toml:18:1:")
            && e.contains("`path` (a file of a filesystem) is for `engine = \"fio\"`"),
        "{e}"
    );
    let e = one(&mounted(&FIO.replace("span = \"8MiB\"\n", "")));
    assert!(
        e.starts_with("t.toml:19:8:") && e.contains("fio on a file needs `span`"),
        "{e}"
    );
    let e = one(&mounted(&FIO.replace("d/f.dat", "../f.dat")));
    assert!(
        e.starts_with("t.toml:19:8:") && e.contains("`path` has a `..` component"),
        "{e}"
    );
    let e = one(&format!(
        "{}[[step]]\naction = \"umount\"\nthin = \"t\"\n{FIO}",
        mounted("")
    ));
    assert!(
        e.starts_with("t.toml:20:8:") && e.contains("thin `t` is not mounted here"),
        "{e}"
    );
}

//! A path written in an untrusted file → `untrusted::resolve_inside` against a directory
//! holding a subdirectory, a symlink inside, symlinks out (to `/etc`, `..`, an absolute
//! path) and a symlink loop. Never panics; what it accepts (without the command line's
//! grant) is relative, has no `..`, no control character, and resolves, after every
//! symlink, inside the directory.
#![no_main]

use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use thinbench_schema::untrusted::resolve_inside;

fn base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("thinbench-fuzz-paths-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("sub/deeper")).unwrap();
        std::fs::write(d.join("sub/job.fio"), "[j]\n").unwrap();
        let link = |to: &str, name: &str| std::os::unix::fs::symlink(to, d.join(name)).unwrap();
        link("sub/job.fio", "in");
        link("/etc", "etc");
        link("..", "up");
        link("sub/../../", "up2");
        link("loop", "loop");
        link("/proc/self/environ", "env");
        std::os::unix::fs::symlink("../../", d.join("sub/deeper/out")).unwrap();
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let written = String::from_utf8_lossy(data);
    let base = base();
    if let Ok(p) = resolve_inside(base, &written, false) {
        let rel = Path::new(written.as_ref());
        assert!(!rel.is_absolute(), "accepted an absolute path: {written:?}");
        assert!(
            !rel.components().any(|c| matches!(c, Component::ParentDir)),
            "accepted `..`: {written:?}"
        );
        assert!(!written.chars().any(char::is_control), "accepted a control character");
        let real = std::fs::canonicalize(&p).expect("an accepted path resolves");
        let real_base = std::fs::canonicalize(base).unwrap();
        assert!(
            real.starts_with(&real_base),
            "{written:?} resolved outside: {}",
            real.display()
        );
    }
});

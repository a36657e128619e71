//! The file model and its stamped records on a plain directory standing in for a mounted
//! filesystem: records read back, damage is found, a snapshot's model is its origin's as
//! of the snapshot and changes on either side leave the other as it was, and paths stay
//! inside the filesystem.

use super::*;
use thinbench_schema::units::Bytes;

fn rec(step: &str, thin: &str, seq: u64, len: u64) -> Record {
    Record {
        step: step.into(),
        thin: thin.into(),
        seq,
        len,
    }
}

fn stamps(root: &Path, p: &str) -> String {
    shown_read(read_tree(root).get(p))
}

#[test]
fn records_read_back_and_damage_is_found() {
    let a = rec("write-id", "base", 1, 1024).bytes("id.txt").unwrap();
    let b = rec("append-id", "snap1", 2, 600).bytes("id.txt").unwrap();
    assert_eq!((a.len(), b.len()), (1024, 600));
    let both = [a.clone(), b].concat();
    assert_eq!(
        decode(&both).unwrap(),
        vec![
            ("write-id@base".into(), 1024),
            ("append-id@snap1".into(), 600)
        ]
    );
    let mut bad = both.clone();
    bad[700] ^= 1;
    assert_eq!(
        decode(&bad).unwrap_err(),
        "record write-id@base at byte 0 differs at byte 700"
    );
    assert!(decode(&both[..1500]).unwrap_err().contains("cut short"));
    assert!(decode(b"hello\n").unwrap_err().contains("no record header"));
    // A header that cannot fit is refused, not truncated.
    assert!(rec("s", "t", 1, 10).bytes("p").is_err());
}

#[test]
fn a_snapshot_sees_its_origins_files_as_of_the_snapshot_and_each_side_changes_alone() {
    let t = tempfile::tempdir().unwrap();
    let (base, snap) = (t.path().join("base"), t.path().join("snap1"));
    std::fs::create_dir_all(&base).unwrap();
    let mut st = FsState::default();
    let (b, s1) = (Ident::new("base").unwrap(), Ident::new("snap1").unwrap());
    st.thins.insert(
        b.clone(),
        ThinFiles {
            fs: FsKind::Ext4,
            files: BTreeMap::new(),
        },
    );
    let write = FileOp::Write { size: Bytes(1024) };
    let files = &mut st.thins.get_mut(&b).unwrap().files;
    apply(
        &base,
        files,
        "id.txt",
        &write,
        rec("write-id", "base", 1, 1024),
        true,
    )
    .unwrap();
    // The snapshot: the filesystem copied (as dm-thin shares it), the model copied.
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::copy(base.join("id.txt"), snap.join("id.txt")).unwrap();
    st.snapshot(&s1, &b);
    let files = &mut st.thins.get_mut(&s1).unwrap().files;
    let append = FileOp::Append { size: Bytes(1024) };
    apply(
        &snap,
        files,
        "id.txt",
        &append,
        rec("append-id", "snap1", 2, 1024),
        true,
    )
    .unwrap();
    apply(
        &snap,
        files,
        "snap1.txt",
        &write,
        rec("write-snap1", "snap1", 3, 1024),
        true,
    )
    .unwrap();
    assert_eq!(stamps(&snap, "id.txt"), "write-id@base + append-id@snap1");
    assert_eq!(
        shown_model(st.thins[&s1].files.get("id.txt")),
        "write-id@base + append-id@snap1"
    );
    assert_eq!(stamps(&base, "id.txt"), "write-id@base");
    assert_eq!(
        shown_model(st.thins[&b].files.get("id.txt")),
        "write-id@base"
    );
    assert_eq!(stamps(&base, "snap1.txt"), "absent");
    assert_eq!(shown_model(st.thins[&b].files.get("snap1.txt")), "absent");
    // modify keeps the length, rename moves, delete removes: model and files agree.
    let files = &mut st.thins.get_mut(&s1).unwrap().files;
    apply(
        &snap,
        files,
        "id.txt",
        &FileOp::Modify,
        rec("mod", "snap1", 4, 0),
        true,
    )
    .unwrap();
    assert_eq!(stamps(&snap, "id.txt"), "mod@snap1 + append-id@snap1");
    let to = FileOp::Rename {
        to: "d/moved.txt".into(),
    };
    apply(&snap, files, "id.txt", &to, rec("mv", "snap1", 5, 0), true).unwrap();
    apply(
        &snap,
        files,
        "snap1.txt",
        &FileOp::Delete,
        rec("rm", "snap1", 6, 0),
        true,
    )
    .unwrap();
    let read = read_tree(&snap);
    let model = &st.thins[&s1].files;
    assert_eq!(
        read.keys().collect::<Vec<_>>(),
        model.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        shown_read(read.get("d/moved.txt")),
        shown_model(model.get("d/moved.txt"))
    );
    assert!(!lengths_differ(&read["d/moved.txt"], &model["d/moved.txt"]));
}

#[test]
fn paths_stay_inside_the_filesystem() {
    let t = tempfile::tempdir().unwrap();
    let (root, out) = (t.path().join("root"), t.path().join("out"));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(&out, root.join("esc")).unwrap();
    std::os::unix::fs::symlink(out.join("f"), root.join("link.txt")).unwrap();
    let mut files = BTreeMap::new();
    let w = FileOp::Write { size: Bytes(512) };
    let e = apply(
        &root,
        &mut files,
        "esc/x.txt",
        &w,
        rec("w", "t", 1, 512),
        true,
    )
    .unwrap_err();
    assert!(
        e.contains("leads outside the filesystem through a symlink"),
        "{e}"
    );
    // The last component is never followed.
    let e = apply(
        &root,
        &mut files,
        "link.txt",
        &w,
        rec("w", "t", 1, 512),
        true,
    )
    .unwrap_err();
    assert!(e.contains("link.txt"), "{e}");
    assert!(!out.join("f").exists() && !out.join("x.txt").exists());
    assert!(files.is_empty());
    // verify-files does not follow symlinks either: they are reported.
    assert_eq!(stamps(&root, "esc"), "unreadable: not a regular file");
}

#[test]
fn a_devices_filesystem_is_apart_from_a_thins_of_the_same_name() {
    let mut st = FsState::default();
    let name = Ident::new("x").unwrap();
    let (thin, dev) = (FsTarget::Thin(name.clone()), FsTarget::Device(name.clone()));
    st.made(&dev, FsKind::Xfs);
    assert_eq!(st.files_of(&dev).map(|f| f.fs), Some(FsKind::Xfs));
    assert!(st.files_of(&thin).is_none(), "a thin x has no filesystem");
    st.made(&thin, FsKind::Ext4);
    st.files_mut(&dev)
        .unwrap()
        .files
        .insert("f".into(), vec![rec("w", "x", 1, 512)]);
    assert!(st.files_of(&thin).unwrap().files.is_empty());
    st.mounts.push(Mount {
        on: dev.clone(),
        dir: PathBuf::from("/m/device.x"),
    });
    assert_eq!(st.mount_at(&dev), Some(Path::new("/m/device.x")));
    assert_eq!(st.mount_of(&name), None, "the thin x is not mounted");
    // A snapshot of the thin copies the thin's model, not the device's.
    st.snapshot(&Ident::new("s").unwrap(), &name);
    assert_eq!(st.thins[&Ident::new("s").unwrap()].fs, FsKind::Ext4);
}

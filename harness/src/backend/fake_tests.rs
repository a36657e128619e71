use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;

use super::*;
use crate::backend::is_busy;

const CHUNK: u64 = 64 * 1024;

fn pool(dir: &Path, blocks: u64) -> FakePool {
    FakePool::new(
        &dir.join("pool"),
        "p",
        ChunkSize::new(Bytes(CHUNK)).unwrap(),
        DataBlocks(blocks),
        false,
    )
    .unwrap()
}

fn id(s: &str) -> Ident {
    Ident::new(s).unwrap()
}

fn write(p: &FakePool, thin: &str, offset: u64, byte: u8) {
    let f = OpenOptions::new()
        .write(true)
        .open(p.thin(&id(thin)).unwrap().node())
        .unwrap();
    f.write_all_at(&[byte; 4096], offset).unwrap();
}

fn used(p: &FakePool) -> u64 {
    p.status().unwrap().data_used.0
}

#[test]
fn a_written_chunk_takes_one_block_and_a_rewrite_none() {
    let d = tempfile::tempdir().unwrap();
    let mut p = pool(d.path(), 16);
    p.create_thin(&id("a"), None, Bytes(16 * CHUNK)).unwrap();
    assert_eq!(used(&p), 0);
    write(&p, "a", 0, 1);
    write(&p, "a", 4096, 2); // same chunk
    write(&p, "a", 3 * CHUNK, 3);
    assert_eq!(used(&p), 2);
    write(&p, "a", 0, 9);
    assert_eq!(used(&p), 2, "an unshared chunk is rewritten in place");
    assert_eq!(p.status().unwrap().mode, PoolMode::Rw);
}

#[test]
fn a_snapshot_shares_until_either_side_writes() {
    let d = tempfile::tempdir().unwrap();
    let mut p = pool(d.path(), 16);
    p.create_thin(&id("o"), None, Bytes(4 * CHUNK)).unwrap();
    write(&p, "o", 0, 1);
    write(&p, "o", CHUNK, 1);
    p.snapshot(&id("s"), &id("o"), None).unwrap();
    assert_eq!(used(&p), 2, "a snapshot costs no data block");
    assert_eq!(p.mapping(&id("s")), p.mapping(&id("o")));
    write(&p, "s", 0, 2); // copy-on-write in the snapshot
    assert_eq!(used(&p), 3);
    write(&p, "o", CHUNK, 3); // and in the origin
    assert_eq!(used(&p), 4);
    let (o, s) = (p.mapping(&id("o")).unwrap(), p.mapping(&id("s")).unwrap());
    assert_ne!(o[&0], s[&0]);
    assert_ne!(o[&1], s[&1]);
    write(&p, "s", 0, 4); // now exclusive: in place
    assert_eq!(used(&p), 4);
    p.delete_thin(&id("s")).unwrap();
    assert_eq!(
        used(&p),
        2,
        "deleting the snapshot frees what only it mapped"
    );
}

#[test]
fn a_punched_hole_gives_its_block_back() {
    let d = tempfile::tempdir().unwrap();
    let mut p = pool(d.path(), 16);
    p.create_thin(&id("a"), None, Bytes(4 * CHUNK)).unwrap();
    write(&p, "a", 0, 1);
    write(&p, "a", CHUNK, 1);
    assert_eq!(used(&p), 2);
    let f = OpenOptions::new()
        .write(true)
        .open(p.thin(&id("a")).unwrap().node())
        .unwrap();
    // SAFETY: fallocate on a file we own.
    let r = unsafe {
        libc::fallocate(
            f.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            0,
            CHUNK as i64,
        )
    };
    assert_eq!(r, 0);
    assert_eq!(used(&p), 1);
}

#[test]
fn a_full_pool_says_out_of_data_space() {
    let d = tempfile::tempdir().unwrap();
    let mut p = pool(d.path(), 2);
    p.create_thin(&id("a"), None, Bytes(4 * CHUNK)).unwrap();
    write(&p, "a", 0, 1);
    assert_eq!(p.status().unwrap().mode, PoolMode::Rw);
    write(&p, "a", CHUNK, 1);
    assert_eq!(p.status().unwrap().mode, PoolMode::OutOfDataSpace);
    p.grow_data(Bytes(2 * CHUNK)).unwrap();
    let u = p.status().unwrap();
    assert_eq!((u.mode, u.data_total.0), (PoolMode::Rw, 4));
}

#[test]
fn an_open_thin_is_busy_and_a_deferred_remove_ends_at_its_last_close() {
    let d = tempfile::tempdir().unwrap();
    let mut p = pool(d.path(), 4);
    let t = p.create_thin(&id("a"), None, Bytes(CHUNK)).unwrap();
    let held = File::open(t.node()).unwrap();
    let e = p.deactivate_thin(&id("a"), false).unwrap_err();
    assert!(is_busy(&e), "{e}");
    p.deactivate_thin(&id("a"), true).unwrap();
    assert_eq!(p.deferred_pending(&id("a")).unwrap(), Some(true));
    assert!(is_busy(&p.delete_inactive_thin(&id("a")).unwrap_err()));
    drop(held);
    assert_eq!(p.deferred_pending(&id("a")).unwrap(), None);
    p.delete_inactive_thin(&id("a")).unwrap();
    assert!(p.thin(&id("a")).is_none());
}

#[test]
fn an_injected_failure_fails_the_next_call_once() {
    let d = tempfile::tempdir().unwrap();
    let mut p = pool(d.path(), 4);
    p.fail_next(FakeOp::CreateThin, Errno::ENOSPC);
    let e = p.create_thin(&id("a"), None, Bytes(CHUNK)).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::ENOSPC));
    p.create_thin(&id("a"), None, Bytes(CHUNK)).unwrap();
    p.injector().fail_next(FakeOp::Status, Errno::EIO);
    assert!(p.status().is_err());
    assert!(p.status().is_ok());
}

#[test]
fn ids_are_handed_out_as_loop_lvm_does_and_taken_ones_refused() {
    let d = tempfile::tempdir().unwrap();
    let mut p = pool(d.path(), 4);
    let a = p.create_thin(&id("a"), None, Bytes(CHUNK)).unwrap();
    let b = p
        .create_thin(&id("b"), Some(ThinId::new(7).unwrap()), Bytes(CHUNK))
        .unwrap();
    let c = p.create_thin(&id("c"), None, Bytes(CHUNK)).unwrap();
    // The lowest free id, not one past the highest.
    assert_eq!((a.id.get(), b.id.get(), c.id.get()), (1, 7, 2));
    p.delete_thin(&id("a")).unwrap();
    let again = p.create_thin(&id("a2"), None, Bytes(CHUNK)).unwrap();
    assert_eq!(again.id.get(), 1, "a deleted thin's id is free again");
    let e = p
        .create_thin(&id("d"), Some(ThinId::new(7).unwrap()), Bytes(CHUNK))
        .unwrap_err();
    assert_eq!(e.errno(), Some(Errno::EEXIST));
}

#[test]
fn teardown_removes_every_file_it_made() {
    let d = tempfile::tempdir().unwrap();
    let mut p = pool(d.path(), 4);
    p.create_thin(&id("a"), None, Bytes(CHUNK)).unwrap();
    p.snapshot(&id("b"), &id("a"), None).unwrap();
    assert_eq!(p.teardown(), Vec::<String>::new());
    assert!(!d.path().join("pool").exists());
    assert_eq!(p.teardown(), Vec::<String>::new(), "idempotent");
}

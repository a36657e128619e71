//! Reading and replaying a dm `log-writes` log, to check the crash states of a thin pool.
//!
//! The pool's metadata and data devices sit on one `log-writes` device (a linear concat
//! `[metadata | data]` under it, split again by two linears above), so one log holds
//! every write to both, in the order the kernel saw them become durable. After the run,
//! [`LogReader`] parses the log, [`LogReader::points`] picks crash points (FUA writes,
//! flushes, marks), and a [`Replayer`] rebuilds the devices on sparse files up to each
//! point, in order, for `thin_check` and for reading the flushed data back.
//!
//! The format followed is the kernel's `drivers/md/dm-log-writes.c` (target version
//! 1.1.0), as xfstests' `src/log-writes/log-writes.c` reads it. Three parts, each
//! importing only those before it:
//!
//! - `format`: the on-disk format (superblock, entry header, flags) and the checks that
//!   decode its blocks, each failure a [`Corruption`];
//! - `reader`: [`LogReader`], the entries in order, the counts in [`Summary`], the crash
//!   points and their sampling; what of a log is trusted;
//! - `replay`: [`Replayer`], the entries applied onto files by [`Region`].
//!
//! # For the VM integration test
//!
//! This host has no device-mapper, so these tests run on synthetic logs in the kernel's
//! format. A VM test on a real log should check: `LogReader::open` on the log device (or
//! its backing file) after `dmsetup remove`, `block_size` equal to `blockdev --getss`
//! of the concat device; `Summary::clean_end`; the log-writes status (`<entries>
//! <highest sector>`) before removal not saying `logging_disabled` (a full log device
//! drops every later entry) and its entry count + 1 (the end mark) equal to
//! `Summary::entries`; its own marks present, in order, with their labels; replaying
//! to the last point giving files byte-identical to the metadata and data devices
//! (read through the linears above log-writes before teardown); and `thin_check`
//! passing on the metadata replayed to each sampled flush/FUA point.

mod error;
mod format;
mod reader;
mod replay;

pub use error::LogError;
pub use format::{Corruption, Entry, Flags, END_MARK, LOG_MAGIC, LOG_VERSION};
pub use reader::{Entries, LogReader, Point, PointKind, Select, Summary};
pub use replay::{Region, Replayer};

#[cfg(test)]
mod test_log;

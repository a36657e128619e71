//! The `log-writes` fault: one log of every write of a pool, under everything else.
//!
//! One log must hold the writes of the metadata and the data device in the order they
//! completed, so that replaying a prefix of it is a crash state of both; so log-writes is
//! never a swappable layer of one device (`super::fault`), it logs from the pool's
//! construction to its teardown.
//!
//! - loop-lvm ([`PoolLog`]): the metadata and data loop devices are joined by a `linear`
//!   concat `[metadata | data]`, the log-writes device sits on it, and two `linear` parts
//!   split it again for the pool.
//! - direct-lvm ([`PvLog`]): lvm owns everything above the PV, so the log-writes device
//!   sits on the PV disk, under the other fault layers, before `pvcreate`; lvm's filter
//!   admits only the top layer. The log then holds lvm's own writes too (labels, its
//!   metadata area, the spare metadata LV); a replay maps the log's PV sectors onto
//!   `_tmeta`'s and `_tdata`'s segments ([`LoggedRange`]) and skips the rest.
//!
//! Either way the devices under the log were blank when logging began (sparse files,
//! a new RAM disk), so a replay starts from zeros.

use std::path::{Path, PathBuf};

use thinbench_schema::units::Sectors;

use super::dm::{Dm, DmDev, TableLine};
use super::error::BackendError;
use super::fault::table_text;
use super::loopdev::{self, Loop};
use super::names::Names;

/// What the runner needs of a pool's log: the device to mark, the file to read, the run
/// whose names the replay's devices take.
#[derive(Debug, Clone, Copy)]
pub struct LogHandle<'a> {
    /// The log-writes dm device.
    pub dm_name: &'a str,
    /// The log's backing file.
    pub log_file: &'a Path,
    /// The run id.
    pub run_id: &'a str,
}

impl LogHandle<'_> {
    /// Write a mark into the log (`dmsetup message … 0 mark <label>`).
    pub fn mark(&self, dm: &Dm, label: &str) -> Result<(), BackendError> {
        dm.message(self.dm_name, &format!("mark {label}"))
    }
}

/// Which of the pool's devices a logged range is part of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolDevice {
    /// The metadata device.
    Metadata,
    /// The data device.
    Data,
}

/// A range of the logged device that is a piece of one of the pool's devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRange {
    /// Whose piece.
    pub device: PoolDevice,
    /// First sector on the logged device.
    pub start: Sectors,
    /// Length.
    pub len: Sectors,
    /// Where the piece starts in the pool's device.
    pub at: Sectors,
}

/// The ranges of an LV's linear segments (`fault::lv_regions`, in LV order), each at
/// its offset in the LV.
pub fn lv_ranges(device: PoolDevice, segments: &[(u64, u64)]) -> Vec<LoggedRange> {
    let mut at = 0;
    segments
        .iter()
        .map(|&(start, len)| {
            let r = LoggedRange {
                device,
                start: Sectors(start),
                len: Sectors(len),
                at: Sectors(at),
            };
            at += len;
            r
        })
        .collect()
}

/// The log device: a loop device over a sparse file of `log_size` bytes.
fn log_device(
    log_file: &Path,
    log_size: u64,
    construction: &mut Vec<String>,
) -> Result<Loop, BackendError> {
    loopdev::sparse_file(log_file, log_size)?;
    construction.push(format!("truncate -s {log_size} {}", log_file.display()));
    match loopdev::attach(log_file) {
        Ok(l) => {
            construction.push(format!(
                "losetup {} {}",
                l.path.display(),
                log_file.display()
            ));
            Ok(l)
        }
        Err(e) => {
            let _ = std::fs::remove_file(log_file);
            Err(e)
        }
    }
}

/// Detach the log device and remove its file; the errors.
fn remove_log(mut log: Loop, log_file: &Path, errs: &mut Vec<String>) {
    if let Err(e) = log.detach() {
        errs.push(e.to_string());
    }
    if let Err(e) = std::fs::remove_file(log_file) {
        if e.kind() != std::io::ErrorKind::NotFound {
            errs.push(format!("removing {}: {e}", log_file.display()));
        }
    }
}

/// A `log-writes` layer under a whole pool: concat → log-writes → metadata and data parts.
pub struct PoolLog {
    /// `tb-…-pool-concat`: metadata then data.
    pub concat: DmDev,
    /// `tb-…-pool-log-writes`.
    pub log_writes: DmDev,
    /// `tb-…-metadata-part` and `tb-…-data-part`, what the pool (or further layers) uses.
    pub meta_part: DmDev,
    /// See `meta_part`.
    pub data_part: DmDev,
    /// The log device (a loop device over a sparse file) and its file.
    pub log: Loop,
    /// The log file.
    pub log_file: PathBuf,
    /// Metadata region length, sectors (the data region starts there).
    pub meta_sectors: u64,
    /// Data region length, sectors.
    pub data_sectors: u64,
    /// The run id.
    pub run_id: String,
}

impl PoolLog {
    /// Build it over the metadata and data devices (`major:minor`), with a log of
    /// `log_size` bytes in `log_file`. On failure what was made is removed.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        dm: &Dm,
        names: &Names,
        pool: &str,
        (meta, meta_sectors): (&str, u64),
        (data, data_sectors): (&str, u64),
        log_file: PathBuf,
        log_size: u64,
        construction: &mut Vec<String>,
    ) -> Result<PoolLog, BackendError> {
        let log = log_device(&log_file, log_size, construction)?;
        let mut made: Vec<String> = Vec::new();
        let mut mk = |part: &str, t: Vec<TableLine>, made: &mut Vec<String>| {
            let name = names.dm(pool, part);
            let d = dm.create(&name, &names.uuid(pool, part), &t)?;
            construction.push(format!(
                "dmsetup create {name} --table '{}'",
                table_text(&t)
            ));
            made.push(name);
            Ok::<DmDev, BackendError>(d)
        };
        let total = meta_sectors + data_sectors;
        let built = (|| {
            let concat = mk(
                "pool-concat",
                vec![
                    (0, meta_sectors, "linear".into(), format!("{meta} 0")),
                    (
                        meta_sectors,
                        data_sectors,
                        "linear".into(),
                        format!("{data} 0"),
                    ),
                ],
                &mut made,
            )?;
            let lw = mk(
                "pool-log-writes",
                vec![(
                    0,
                    total,
                    "log-writes".into(),
                    format!("{} {}", concat.majmin(), log.majmin),
                )],
                &mut made,
            )?;
            let meta_part = mk(
                "metadata-part",
                vec![(
                    0,
                    meta_sectors,
                    "linear".into(),
                    format!("{} 0", lw.majmin()),
                )],
                &mut made,
            )?;
            let data_part = mk(
                "data-part",
                vec![(
                    0,
                    data_sectors,
                    "linear".into(),
                    format!("{} {meta_sectors}", lw.majmin()),
                )],
                &mut made,
            )?;
            Ok::<_, BackendError>((concat, lw, meta_part, data_part))
        })();
        match built {
            Ok((concat, log_writes, meta_part, data_part)) => Ok(PoolLog {
                concat,
                log_writes,
                meta_part,
                data_part,
                log,
                log_file,
                meta_sectors,
                data_sectors,
                run_id: names.run_id.clone(),
            }),
            Err(e) => {
                for name in made.iter().rev() {
                    let _ = dm.remove(name, false);
                }
                remove_log(log, &log_file, &mut Vec::new());
                Err(e)
            }
        }
    }

    /// The runner's view of it.
    pub fn handle(&self) -> LogHandle<'_> {
        LogHandle {
            dm_name: &self.log_writes.name,
            log_file: &self.log_file,
            run_id: &self.run_id,
        }
    }

    /// `[metadata | data]`, each whole.
    pub fn ranges(&self) -> Vec<LoggedRange> {
        vec![
            LoggedRange {
                device: PoolDevice::Metadata,
                start: Sectors(0),
                len: Sectors(self.meta_sectors),
                at: Sectors(0),
            },
            LoggedRange {
                device: PoolDevice::Data,
                start: Sectors(self.meta_sectors),
                len: Sectors(self.data_sectors),
                at: Sectors(0),
            },
        ]
    }

    /// Remove it, top down, then the log device and file; the errors.
    pub fn teardown(self, dm: &Dm) -> Vec<String> {
        let mut errs = Vec::new();
        for d in [
            &self.data_part,
            &self.meta_part,
            &self.log_writes,
            &self.concat,
        ] {
            if let Err(e) = dm.remove(&d.name, false) {
                errs.push(e.to_string());
            }
        }
        remove_log(self.log, &self.log_file, &mut errs);
        errs
    }
}

/// A `log-writes` device over a direct-lvm pool's PV disk (see the module's text).
pub struct PvLog {
    /// `tb-…-pv-log-writes`.
    pub log_writes: DmDev,
    /// The log device.
    pub log: Loop,
    /// Its file.
    pub log_file: PathBuf,
    /// The run id.
    pub run_id: String,
}

impl PvLog {
    /// Build it over `disk` (a device path or `major:minor`) of `sectors`, with a log of
    /// `log_size` bytes in `log_file`. On failure what was made is removed.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        dm: &Dm,
        names: &Names,
        pool: &str,
        (disk, sectors): (&str, u64),
        log_file: PathBuf,
        log_size: u64,
        construction: &mut Vec<String>,
    ) -> Result<PvLog, BackendError> {
        let log = log_device(&log_file, log_size, construction)?;
        let name = names.dm(pool, "pv-log-writes");
        let t = vec![(
            0,
            sectors,
            "log-writes".to_owned(),
            format!("{disk} {}", log.majmin),
        )];
        match dm.create(&name, &names.uuid(pool, "pv-log-writes"), &t) {
            Ok(log_writes) => {
                construction.push(format!(
                    "dmsetup create {name} --table '{}'  # over the PV disk: every write of the pool, lvm's too",
                    table_text(&t)
                ));
                Ok(PvLog {
                    log_writes,
                    log,
                    log_file,
                    run_id: names.run_id.clone(),
                })
            }
            Err(e) => {
                remove_log(log, &log_file, &mut Vec::new());
                Err(e)
            }
        }
    }

    /// The runner's view of it.
    pub fn handle(&self) -> LogHandle<'_> {
        LogHandle {
            dm_name: &self.log_writes.name,
            log_file: &self.log_file,
            run_id: &self.run_id,
        }
    }

    /// Remove it, then the log device and file (after `pvremove` and the layers above);
    /// the errors.
    pub fn teardown(self, dm: &Dm) -> Vec<String> {
        let mut errs = Vec::new();
        if let Err(e) = dm.remove(&self.log_writes.name, false) {
            errs.push(e.to_string());
        }
        remove_log(self.log, &self.log_file, &mut errs);
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_lvs_segments_are_ranges_at_their_offsets_in_the_lv() {
        // `_tdata` extended after `_tmeta`: its second segment lies past the metadata.
        let r = lv_ranges(PoolDevice::Data, &[(2048, 8192), (12288, 4096)]);
        assert_eq!(
            r,
            vec![
                LoggedRange {
                    device: PoolDevice::Data,
                    start: Sectors(2048),
                    len: Sectors(8192),
                    at: Sectors(0),
                },
                LoggedRange {
                    device: PoolDevice::Data,
                    start: Sectors(12288),
                    len: Sectors(4096),
                    at: Sectors(8192),
                },
            ]
        );
        assert!(lv_ranges(PoolDevice::Metadata, &[]).is_empty());
    }
}

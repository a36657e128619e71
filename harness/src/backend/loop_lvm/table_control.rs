//! loop-lvm's `reload` and `resize`: the pool's table loaded again with changed features
//! or a new length, the backing files grown with their loop devices' capacity, live or
//! with the pool down; and the file growth `grow_data` and `repair_metadata` share.

use std::path::Path;

use thinbench_schema::units::{Bytes, DataBlocks};

use super::{low_water_mark, LoopLvmPool};
use crate::backend::error::BackendError;
use crate::backend::pool::{pool_table, PoolBackend, ThinDev};
use crate::backend::resize::Resized;
use crate::backend::table::PoolTable;
use crate::spec::{ReloadSpec, ResizeDevice, ResizeSpec};

fn io(what: &str, path: &Path, source: std::io::Error) -> BackendError {
    BackendError::Io {
        what: what.into(),
        path: path.to_owned(),
        source,
    }
}

/// Grows `file` to `to` bytes and the loop device `dev` over it with it.
fn grow_file(file: &Path, dev: &Path, to: Bytes) -> Result<(), BackendError> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(file)
        .and_then(|f| f.set_len(to.0))
        .map_err(|e| io("growing", file, e))?;
    ::loopdev::LoopDevice::open(dev)
        .and_then(|d| d.set_capacity())
        .map_err(|e| io("refreshing capacity of", dev, e))
}

impl LoopLvmPool {
    fn live_table(&self) -> Result<(u64, String), BackendError> {
        self.table
            .clone()
            .ok_or_else(|| BackendError::Unsupported("pool is torn down".into()))
    }

    /// Loads `params` of `sectors` and resumes (noflush: a pool holding IO for lack of
    /// space must not wait for it). A refused load leaves the old table live; a refused
    /// resume leaves the pool suspended (with the new table live when the pool's
    /// preresume refused it), so the old table goes back before the error returns.
    fn swap_table(&mut self, sectors: u64, params: &str) -> Result<(), BackendError> {
        let (old_sectors, old_params) = self.live_table()?;
        let line = [(0, sectors, "thin-pool".to_owned(), params.to_owned())];
        match self.dm.reload(&self.pool_name, &line) {
            Ok(()) => {
                self.construction.push(format!(
                    "dmsetup reload {} --table '0 {sectors} thin-pool {params}'; dmsetup resume --noflush {}",
                    self.pool_name, self.pool_name
                ));
                Ok(())
            }
            Err(e) => {
                if self.dm.is_suspended(&self.pool_name)? == Some(true) {
                    let old = [(0, old_sectors, "thin-pool".to_owned(), old_params)];
                    if let Err(r) = self.dm.reload(&self.pool_name, &old) {
                        return Err(BackendError::Unsupported(format!(
                            "{e}; putting the old table back failed too: {r}"
                        )));
                    }
                }
                Err(e)
            }
        }
    }

    /// `reload` (see `PoolBackend::reload`).
    pub(super) fn reload_table(&mut self, change: &ReloadSpec) -> Result<PoolTable, BackendError> {
        let (sectors, params) = self.live_table()?;
        let status = |message: String| BackendError::Status {
            pool: self.pool_name.clone(),
            message,
        };
        let old = PoolTable::parse(&params).map_err(status)?;
        let mut new = old.clone();
        new.features = change.features(&old.features);
        if let Some(c) = change.chunk {
            new.block_sectors = c.sectors().0;
        }
        if let Some(l) = change.low_water_mark {
            new.low_water_mark = low_water_mark(l, DataBlocks(sectors / old.block_sectors)).0;
        }
        let p = new.to_string();
        self.swap_table(sectors, &p)?;
        // What the kernel has now is what later reloads start from.
        let back = pool_table(&self.dm, &self.pool_name)?;
        self.table = Some((sectors, back.to_string()));
        Ok(back)
    }

    /// Grows the data file and its loop device to `to`, and the fault layers over it.
    pub(super) fn grow_data_file(
        &mut self,
        to: Bytes,
        commands: &mut Vec<String>,
    ) -> Result<(), BackendError> {
        if self.striped.is_some() {
            return Err(BackendError::Unsupported(
                "growing a striped data device (`data_stripes`): each of its files and the striped table would have to grow".into(),
            ));
        }
        let data = &self.loops[0];
        grow_file(&data.file, &data.path, to)?;
        commands.push(format!(
            "truncate -s {} {}; losetup -c {}",
            to.0,
            data.file.display(),
            data.path.display()
        ));
        self.data_faults.resize(&self.dm, to.sectors().0, commands)
    }

    /// Grows the metadata file and its loop device by `by` (the kernel sees the bigger
    /// device at the pool's next resume or activation), and the fault layers over it;
    /// returns its size before and after.
    pub(super) fn grow_metadata_file(
        &mut self,
        by: Bytes,
        commands: &mut Vec<String>,
    ) -> Result<(Bytes, Bytes), BackendError> {
        let (dev, file) = self
            .meta_loop()
            .map(|l| (l.path.clone(), l.file.clone()))
            .ok_or_else(|| BackendError::Unsupported("no metadata loop device".into()))?;
        let before = Bytes(
            std::fs::metadata(&file)
                .map_err(|e| io("reading the size of", &file, e))?
                .len(),
        );
        let after = Bytes(before.0 + by.0);
        grow_file(&file, &dev, after)?;
        commands.push(format!(
            "truncate -s {} {}; losetup -c {}",
            after.0,
            file.display(),
            dev.display()
        ));
        self.meta_faults
            .resize(&self.dm, after.sectors().0, commands)?;
        Ok((before, after))
    }

    /// The pool made again from its table (after `take_down`), and `thins` activated.
    pub(super) fn bring_up(
        &mut self,
        thins: Vec<ThinDev>,
        commands: &mut Vec<String>,
    ) -> Result<(), BackendError> {
        let (sectors, params) = self.live_table()?;
        let uuid = self.names.uuid(self.pool_name_part(), "pool");
        self.pool = Some(self.dm.create(
            &self.pool_name,
            &uuid,
            &[(0, sectors, "thin-pool".into(), params.clone())],
        )?);
        commands.push(format!(
            "dmsetup create {} --table '0 {sectors} thin-pool {params}'",
            self.pool_name
        ));
        for t in thins {
            let name = t.dm.name.clone();
            self.activate(&t.name, t.id, t.size)?;
            commands.push(format!("dmsetup create {name} (thin {})", t.id));
        }
        Ok(())
    }

    /// `resize` (see `PoolBackend::resize`).
    pub(super) fn resize_device(&mut self, r: &ResizeSpec) -> Result<Resized, BackendError> {
        if self.pool_log.is_some() {
            return Err(BackendError::Unsupported(
                "resizing a device of a pool under a log-writes layer (its concat and log would have to grow with it)".into(),
            ));
        }
        let mut commands = Vec::new();
        let (before, after) = match r.device {
            ResizeDevice::Data => {
                let before = self.data_size;
                let after = r.amount.target(before);
                if after < before {
                    self.shrink_data(after, r.online)?;
                } else if r.online {
                    let start = self.construction.len();
                    if after == before {
                        let (sectors, params) = self.live_table()?;
                        self.swap_table(sectors, &params)?;
                    } else {
                        self.grow_data(Bytes(after.0 - before.0))?;
                    }
                    commands.extend(self.construction[start..].iter().cloned());
                } else {
                    let thins = self.take_down(&mut commands)?;
                    self.grow_data_file(after, &mut commands)?;
                    let (_, params) = self.live_table()?;
                    self.table = Some((after.sectors().0, params));
                    self.data_size = after;
                    self.bring_up(thins, &mut commands)?;
                    self.construction.extend(commands.iter().cloned());
                }
                (before, after)
            }
            ResizeDevice::Metadata => {
                let now = self.meta_loop().map_or(Bytes(0), |l| {
                    Bytes(std::fs::metadata(&l.file).map(|m| m.len()).unwrap_or(0))
                });
                let after = r.amount.target(now);
                if after < now {
                    return Err(BackendError::Unsupported(format!(
                        "shrinking loop-lvm's metadata device ({} to {}): the loop device shrinks with its file, which would cut metadata the pool may be using before the kernel could refuse (lvm refuses it on direct-lvm)",
                        now.human(),
                        after.human()
                    )));
                }
                let by = Bytes(after.0 - now.0);
                if r.online {
                    self.grow_metadata_file(by, &mut commands)?;
                    self.construction.extend(commands.iter().cloned());
                    // The pool sees its bigger metadata device at the resume.
                    let start = self.construction.len();
                    let (sectors, params) = self.live_table()?;
                    self.swap_table(sectors, &params)?;
                    commands.extend(self.construction[start..].iter().cloned());
                } else {
                    let thins = self.take_down(&mut commands)?;
                    self.grow_metadata_file(by, &mut commands)?;
                    self.bring_up(thins, &mut commands)?;
                    self.construction.extend(commands.iter().cloned());
                }
                (now, after)
            }
        };
        Ok(Resized {
            before,
            after,
            commands,
        })
    }

    /// A data shrink: the table asks for fewer blocks than the pool has (the file stays
    /// as it is), which dm-thin refuses at the resume (EINVAL: "pool target too small");
    /// the old table goes back. Offline it would be the activation that is refused, with
    /// the pool's thins then down: not done.
    fn shrink_data(&mut self, to: Bytes, online: bool) -> Result<(), BackendError> {
        if !online {
            return Err(BackendError::Unsupported(
                "an offline data shrink (dm-thin would refuse the pool's activation and leave it down); resize with `online = true` to see the kernel refuse it".into(),
            ));
        }
        let (_, params) = self.live_table()?;
        let sectors = to.sectors().0;
        self.swap_table(sectors, &params)?;
        // The kernel took it: say so rather than pretend.
        self.table = Some((sectors, params));
        self.data_size = to;
        Ok(())
    }
}

//! A device of a case other than its pool and thins (`create-device`): sparse scratch
//! files on loop devices with a dm `linear` (one file) or `striped` (several) target over
//! them, named with the run id so `thinbench cleanup` finds them after a killed run.
//! Removed in reverse order of construction: the dm device, then the loop devices, then
//! the files.

use std::path::{Path, PathBuf};

use thinbench_schema::units::Bytes;

use super::dm::{Dm, DmDev};
use super::error::BackendError;
use super::loopdev::{self, Loop};
use super::names::Names;

/// A live case device.
pub struct CaseDevice {
    /// Its dm device.
    pub dm: DmDev,
    /// Its size.
    pub size: Bytes,
    /// The loop devices under it and their files, in order of construction.
    backing: Vec<(Option<Loop>, PathBuf)>,
}

/// The shape of a case device's table.
#[derive(Debug, Clone, Copy)]
pub enum Layout {
    /// One file, a `linear` target.
    Linear,
    /// `stripes` files of `size / stripes` each, a `striped` target of `stripe` bytes a
    /// chunk (`size` a multiple of `stripes × stripe`: validation says so).
    Striped {
        /// Files striped over.
        stripes: u32,
        /// Bytes on one before the next.
        stripe: Bytes,
    },
}

impl CaseDevice {
    /// A device of `size` and `layout` named `name` for `pool`'s case, its files in `dir`.
    pub fn create(
        names: &Names,
        pool: &str,
        name: &str,
        size: Bytes,
        layout: Layout,
        dir: &Path,
    ) -> Result<CaseDevice, BackendError> {
        let part = format!("dev-{name}");
        let mut d = CaseDevice {
            dm: DmDev {
                name: names.dm(pool, &part),
                major: 0,
                minor: 0,
            },
            size,
            backing: Vec::new(),
        };
        let files = match layout {
            Layout::Linear => 1,
            Layout::Striped { stripes, .. } => stripes,
        };
        let each = Bytes(size.0 / u64::from(files));
        let mut majmins = Vec::new();
        for i in 0..files {
            let file = match layout {
                Layout::Linear => dir.join(format!("device-{name}.img")),
                Layout::Striped { .. } => dir.join(format!("device-{name}-{i}.img")),
            };
            if let Err(e) = loopdev::sparse_file(&file, each.0) {
                d.remove_backing();
                return Err(e);
            }
            match loopdev::attach(&file) {
                Ok(l) => {
                    majmins.push(l.majmin.clone());
                    d.backing.push((Some(l), file));
                }
                Err(e) => {
                    d.backing.push((None, file));
                    d.remove_backing();
                    return Err(e);
                }
            }
        }
        let table = match layout {
            Layout::Linear => [(
                0,
                size.sectors().0,
                "linear".into(),
                format!("{} 0", majmins[0]),
            )],
            Layout::Striped { stripes, stripe } => [(
                0,
                size.sectors().0,
                "striped".into(),
                format!(
                    "{stripes} {} {}",
                    stripe.sectors().0,
                    majmins
                        .iter()
                        .map(|m| format!("{m} 0"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            )],
        };
        match Dm::open().and_then(|dm| dm.create(&d.dm.name, &names.uuid(pool, &part), &table)) {
            Ok(dev) => {
                d.dm = dev;
                Ok(d)
            }
            Err(e) => {
                d.remove_backing();
                Err(e)
            }
        }
    }

    /// A device of `size` and `layout` named `name` over the block devices `members`
    /// (`major:minor`: thins of the case), in order: `linear` over the one, `striped`
    /// over all, `size / members` of each. Nothing of its own under it.
    pub fn over(
        names: &Names,
        pool: &str,
        name: &str,
        size: Bytes,
        layout: Layout,
        members: &[String],
    ) -> Result<CaseDevice, BackendError> {
        let part = format!("dev-{name}");
        let params = match layout {
            Layout::Linear => format!("{} 0", members.first().map_or("", String::as_str)),
            Layout::Striped { stripes, stripe } => format!(
                "{stripes} {} {}",
                stripe.sectors().0,
                members
                    .iter()
                    .map(|m| format!("{m} 0"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        };
        let target = match layout {
            Layout::Linear => "linear",
            Layout::Striped { .. } => "striped",
        };
        let dm = Dm::open()?.create(
            &names.dm(pool, &part),
            &names.uuid(pool, &part),
            &[(0, size.sectors().0, target.into(), params)],
        )?;
        Ok(CaseDevice {
            dm,
            size,
            backing: Vec::new(),
        })
    }

    /// Removes the device; returns what could not be removed.
    pub fn remove(mut self) -> Vec<String> {
        let mut errs = Vec::new();
        match Dm::open().and_then(|dm| dm.remove(&self.dm.name, false)) {
            Ok(()) => errs.extend(self.remove_backing()),
            Err(e) => errs.push(format!("removing device {}: {e}", self.dm.name)),
        }
        errs
    }

    /// The loop devices and files, last made first.
    fn remove_backing(&mut self) -> Vec<String> {
        let mut errs = Vec::new();
        while let Some((lo, file)) = self.backing.pop() {
            if let Some(mut l) = lo {
                if let Err(e) = l.detach() {
                    errs.push(format!("detaching {}: {e}", l.path.display()));
                }
            }
            if let Err(e) = std::fs::remove_file(&file) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    errs.push(format!("removing {}: {e}", file.display()));
                }
            }
        }
        errs
    }
}

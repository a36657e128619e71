//! A device of a case other than its pool and thins (`create-device`): a sparse scratch
//! file on a loop device with a dm `linear` target over it, named with the run id so
//! `thinbench cleanup` finds it after a killed run. Removed in reverse order of
//! construction: the dm device, then the loop device, then the file.

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
    loop_dev: Option<Loop>,
    file: PathBuf,
}

impl CaseDevice {
    /// A linear device of `size` named `name` for `pool`'s case, its file in `dir`.
    pub fn linear(
        names: &Names,
        pool: &str,
        name: &str,
        size: Bytes,
        dir: &Path,
    ) -> Result<CaseDevice, BackendError> {
        let file = dir.join(format!("device-{name}.img"));
        loopdev::sparse_file(&file, size.0)?;
        let lo = match loopdev::attach(&file) {
            Ok(l) => l,
            Err(e) => {
                let _ = std::fs::remove_file(&file);
                return Err(e);
            }
        };
        let part = format!("dev-{name}");
        let table = [(
            0,
            size.sectors().0,
            "linear".into(),
            format!("{} 0", lo.majmin),
        )];
        let mut d = CaseDevice {
            dm: DmDev {
                name: names.dm(pool, &part),
                major: 0,
                minor: 0,
            },
            size,
            loop_dev: Some(lo),
            file,
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

    /// Removes the device; returns what could not be removed.
    pub fn remove(mut self) -> Vec<String> {
        let mut errs = Vec::new();
        match Dm::open().and_then(|dm| dm.remove(&self.dm.name, false)) {
            Ok(()) => errs.extend(self.remove_backing()),
            Err(e) => errs.push(format!("removing device {}: {e}", self.dm.name)),
        }
        errs
    }

    fn remove_backing(&mut self) -> Vec<String> {
        let mut errs = Vec::new();
        if let Some(mut l) = self.loop_dev.take() {
            if let Err(e) = l.detach() {
                errs.push(format!("detaching {}: {e}", l.path.display()));
            }
        }
        if let Err(e) = std::fs::remove_file(&self.file) {
            if e.kind() != std::io::ErrorKind::NotFound {
                errs.push(format!("removing {}: {e}", self.file.display()));
            }
        }
        errs
    }
}

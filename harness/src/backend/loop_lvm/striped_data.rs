//! A loop-lvm pool's striped data device (`data_stripes`): sparse files on loop
//! devices and a dm `striped` target over them, named with the run id so `thinbench
//! cleanup` finds it after a killed run. Removed after the layers above it, before the
//! metadata loop device: the dm device, then its loop devices, then its files.

use std::path::{Path, PathBuf};

use super::super::dm::{Dm, DmDev};
use super::super::error::BackendError;
use super::super::loopdev::{self, Loop};
use super::super::names::Names;
use crate::spec::DataStripes;
use thinbench_schema::units::Bytes;

/// The striped device and what it is made of.
pub(super) struct StripedData {
    pub(super) dev: DmDev,
    /// Loop devices and their files, in order of construction.
    backing: Vec<(Option<Loop>, PathBuf)>,
}

impl StripedData {
    /// `s.stripes` files of `size / s.stripes` each in `dir`, striped; each command
    /// logged to `construction`. On failure whatever was made is removed.
    pub(super) fn build(
        dm: &Dm,
        names: &Names,
        pool: &str,
        size: Bytes,
        s: DataStripes,
        dir: &Path,
        construction: &mut Vec<String>,
    ) -> Result<StripedData, BackendError> {
        let mut d = StripedData {
            dev: DmDev {
                name: names.dm(pool, "data-striped"),
                major: 0,
                minor: 0,
            },
            backing: Vec::new(),
        };
        match d.make(dm, names, pool, size, s, dir, construction) {
            Ok(()) => Ok(d),
            Err(e) => {
                let _ = d.remove_backing();
                Err(e)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn make(
        &mut self,
        dm: &Dm,
        names: &Names,
        pool: &str,
        size: Bytes,
        s: DataStripes,
        dir: &Path,
        construction: &mut Vec<String>,
    ) -> Result<(), BackendError> {
        let each = size.0 / u64::from(s.stripes);
        let mut devs = Vec::new();
        for i in 0..s.stripes {
            let file = dir.join(format!("data-{i}"));
            loopdev::sparse_file(&file, each)?;
            let l = match loopdev::attach(&file) {
                Ok(l) => l,
                Err(e) => {
                    self.backing.push((None, file));
                    return Err(e);
                }
            };
            construction.push(format!(
                "truncate -s {each} {f}; losetup {} {f}",
                l.path.display(),
                f = file.display()
            ));
            devs.push(format!("{} 0", l.majmin));
            self.backing.push((Some(l), file));
        }
        let params = format!("{} {} {}", s.stripes, s.stripe.sectors().0, devs.join(" "));
        let sectors = size.sectors().0;
        construction.push(format!(
            "dmsetup create {} --table '0 {sectors} striped {params}'",
            self.dev.name
        ));
        self.dev = dm.create(
            &self.dev.name,
            &names.uuid(pool, "data-striped"),
            &[(0, sectors, "striped".into(), params)],
        )?;
        Ok(())
    }

    /// Removes the device, then its loop devices and files; what could not be removed.
    pub(super) fn teardown(mut self, dm: &Dm) -> Vec<String> {
        if matches!(dm.info(&self.dev.name), Ok(Some(_))) {
            if let Err(e) = dm.remove(&self.dev.name, false) {
                // The loop devices stay: the device still holds them.
                return vec![format!("removing {}: {e}", self.dev.name)];
            }
        }
        self.remove_backing()
    }

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

//! Pools below a loop-lvm pool (`stacked_levels`, multiple_pool_tests' stacked pools):
//! each level a loop-lvm pool of the upper pool's chunk size over sparse files, with one
//! thin the size of the upper pool's data device; the top level's thin is the upper
//! pool's data device. Built bottom up, torn down top down after the upper pool, each
//! level's metadata checked (`thin_check`) once no pool uses it.

use std::path::{Path, PathBuf};

use thinbench_schema::record::PoolUsage;

use super::dm::{Dm, DmDev};
use super::error::BackendError;
use super::loopdev::{self, Loop};
use super::names::Names;
use super::pool::read_pool_status;
use super::table::PoolTable;
use super::thin_tools::{self, MetadataCheck};
use crate::spec::{LoopLvmSpec, PoolSpec, StackSpec};

/// One level: its pool, its thin (the data device above), its metadata loop device.
struct Level {
    pool: DmDev,
    thin: DmDev,
    metadata: PathBuf,
}

/// The levels below a pool, top first.
#[derive(Default)]
pub struct LowerStack {
    levels: Vec<Level>,
}

impl LowerStack {
    /// Builds `st.levels` pools under `spec`'s pool, their files in `dir`, their loop
    /// devices and files added to `loops` and `files` (released with the upper pool's);
    /// returns the stack and the top thin's `major:minor`, the upper pool's data device.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        dm: &Dm,
        names: &Names,
        spec: &PoolSpec,
        l: &LoopLvmSpec,
        st: &StackSpec,
        dir: &Path,
        loops: &mut Vec<Loop>,
        files: &mut Vec<PathBuf>,
        construction: &mut Vec<String>,
    ) -> Result<(LowerStack, String), BackendError> {
        let mut stack = LowerStack::default();
        let pool = spec.name.as_str();
        let sectors = l.data_size.sectors().0;
        let mut data: Option<String> = None;
        for k in (1..=st.levels).rev() {
            let data_majmin = match data.take() {
                Some(d) => d,
                None => {
                    let f = dir.join("lower-data");
                    attach(&f, l.data_size.0, loops, files, construction)?
                }
            };
            let meta = dir.join(format!("lower{k}-metadata"));
            let meta_majmin = attach(&meta, l.metadata_size.0, loops, files, construction)?;
            let meta_dev = loops.last().map(|l| l.path.clone()).unwrap_or_default();
            let mut features = vec!["skip_block_zeroing".to_owned()];
            if st.ignore_discard {
                features.push("ignore_discard".into());
            } else if !st.discard_passdown {
                features.push("no_discard_passdown".into());
            }
            let params = PoolTable {
                metadata_dev: meta_majmin,
                data_dev: data_majmin,
                block_sectors: spec.chunk.sectors().0,
                low_water_mark: 0,
                features,
            }
            .to_string();
            let part = format!("lower{k}-pool");
            construction.push(format!(
                "dmsetup create {} --table '0 {sectors} thin-pool {params}'",
                names.dm(pool, &part)
            ));
            let pdev = dm.create(
                &names.dm(pool, &part),
                &names.uuid(pool, &part),
                &[(0, sectors, "thin-pool".into(), params)],
            )?;
            dm.message(&pdev.name, "create_thin 0")?;
            let part = format!("lower{k}-thin");
            construction.push(format!(
                "dmsetup message {} 0 'create_thin 0'; dmsetup create {} --table '0 {sectors} thin {} 0'",
                pdev.name,
                names.dm(pool, &part),
                pdev.majmin()
            ));
            let tdev = match dm.create(
                &names.dm(pool, &part),
                &names.uuid(pool, &part),
                &[(0, sectors, "thin".into(), format!("{} 0", pdev.majmin()))],
            ) {
                Ok(t) => t,
                Err(e) => {
                    let _ = dm.remove(&pdev.name, false);
                    return Err(e);
                }
            };
            data = Some(tdev.majmin());
            // Top first: the next level built sits above this one.
            stack.levels.insert(
                0,
                Level {
                    pool: pdev,
                    thin: tdev,
                    metadata: meta_dev,
                },
            );
        }
        let top = data.ok_or_else(|| BackendError::Unsupported("no level below".into()))?;
        Ok((stack, top))
    }

    /// Whether there is no level (a pool on plain devices).
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// Each level's status, the one right below the pool first.
    pub fn status(&self, dm: &Dm) -> Result<Vec<PoolUsage>, BackendError> {
        self.levels
            .iter()
            .map(|l| read_pool_status(dm, &l.pool.name))
            .collect()
    }

    /// Removes the levels top down, `thin_check`ing each level's metadata once its pool
    /// is gone; returns what could not be removed and any metadata a check found wrong.
    pub fn teardown(&mut self, dm: &Dm) -> Vec<String> {
        let mut errs = Vec::new();
        for (k, l) in self.levels.drain(..).enumerate() {
            let level = k + 1;
            if let Err(e) = dm.remove(&l.thin.name, false) {
                errs.push(format!("lower level {level}: {e}"));
                continue;
            }
            if let Err(e) = dm.remove(&l.pool.name, false) {
                errs.push(format!("lower level {level}: {e}"));
                continue;
            }
            match thin_tools::thin_check(&l.metadata) {
                MetadataCheck::Ok => {}
                c => errs.push(format!("lower level {level}: {}", c.text())),
            }
        }
        errs
    }
}

fn attach(
    f: &Path,
    len: u64,
    loops: &mut Vec<Loop>,
    files: &mut Vec<PathBuf>,
    construction: &mut Vec<String>,
) -> Result<String, BackendError> {
    files.push(f.to_owned());
    loopdev::sparse_file(f, len)?;
    construction.push(format!("truncate -s {len} {}", f.display()));
    let lo = loopdev::attach(f)?;
    construction.push(format!("losetup {} {}", lo.path.display(), f.display()));
    let majmin = lo.majmin.clone();
    loops.push(lo);
    Ok(majmin)
}

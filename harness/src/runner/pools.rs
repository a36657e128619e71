//! Where a case's pool comes from: [`KernelPools`] builds the real thing (loop-lvm or
//! direct-lvm on the running kernel); [`FakePools`] builds the fake backend, so the
//! runner's logic runs in a plain `cargo test`.

use std::path::PathBuf;

use thinbench_schema::units::{Bytes, DataBlocks};

use super::context::RunContext;
use crate::backend::direct_lvm::{DirectLvmPool, Monitoring, Pv};
use crate::backend::fake::{FakeInjector, FakePool};
use crate::backend::loop_lvm::LoopLvmPool;
use crate::backend::names::Names;
use crate::backend::ram::RamDir;
use crate::backend::{device_safety, BackendError, PoolBackend};
use crate::spec::{DeviceSpec, NoSpacePolicy, PoolKindSpec, PoolSpec};
use crate::sys::host_services;

/// Builds each case's pool.
pub trait PoolFactory {
    /// Whether a kernel is under the pools (its log is read, its module parameters set,
    /// its fault targets probed).
    fn kernel(&self) -> bool;
    /// The pool of case `index`.
    fn build(
        &mut self,
        index: usize,
        pool: &PoolSpec,
        ctx: &RunContext,
        names: &Names,
    ) -> Result<Box<dyn PoolBackend>, BackendError>;
}

/// The real pools, on the running kernel.
pub struct KernelPools;

impl PoolFactory for KernelPools {
    fn kernel(&self) -> bool {
        true
    }

    fn build(
        &mut self,
        index: usize,
        pool: &PoolSpec,
        ctx: &RunContext,
        names: &Names,
    ) -> Result<Box<dyn PoolBackend>, BackendError> {
        let dir = ctx.work_dir.join(pool.name.as_str());
        match &pool.kind {
            PoolKindSpec::LoopLvm(l) => {
                // RAM backing: the files on a tmpfs of the run's own, released with them.
                let ram = match pool.ram_bytes() {
                    Some(bytes) => Some(RamDir::mount(&ctx.run_id, bytes)?),
                    None => None,
                };
                let d = match (&ram, &l.dir) {
                    (Some(r), _) => r.path().join(pool.name.as_str()),
                    (None, Some(p)) if p.is_absolute() => {
                        p.join(&ctx.run_id).join(pool.name.as_str())
                    }
                    (None, Some(p)) => ctx.work_dir.join(p).join(pool.name.as_str()),
                    (None, None) => dir,
                };
                let mut built = LoopLvmPool::create(pool, l, &d, names)?;
                if let Some(r) = ram {
                    built.hold_ram(r);
                }
                Ok(Box::new(built))
            }
            PoolKindSpec::DirectLvm(d) => {
                let pv = match &d.device {
                    DeviceSpec::Auto { size } => match ctx.auto_devices.get(&index) {
                        Some(p) => Pv::Scratch(p.clone(), *size),
                        None => {
                            return Err(BackendError::Unsupported(format!(
                                "pool {}: device = \"auto\" needs a scratch disk, which only the VM environment makes; on a host use device = \"loop\" (a loop-backed PV) or a device path",
                                pool.name
                            )))
                        }
                    },
                    DeviceSpec::LoopBacked { size } => Pv::LoopFile(dir.join("pv.img"), *size),
                    DeviceSpec::Path(p) => Pv::Device(p.clone()),
                    DeviceSpec::Ram { size } => Pv::Ram(ctx.run_id.clone(), *size),
                };
                // Checked again here, where the pool is built (the CLI checks before a run
                // starts): a device that became busy in between is still refused.
                if let Pv::Device(dev) | Pv::Scratch(dev, _) = &pv {
                    device_safety::check(dev, ctx.force_device)?;
                }
                let monitoring = match ctx.dmeventd {
                    false => None,
                    true => {
                        host_services::dmeventd_pid()
                            .map_err(|e| BackendError::Unsupported(format!("--dmeventd: {e}")))?;
                        Some(Monitoring {
                            profile_dir: host_services::system_profile_dir(),
                        })
                    }
                };
                Ok(Box::new(DirectLvmPool::create(
                    pool,
                    d,
                    pv,
                    &dir.join("lvm"),
                    names,
                    monitoring,
                )?))
            }
        }
    }
}

/// A test's hook on each fake pool as it is built.
pub type PrepareFake = Box<dyn FnMut(&FakePool)>;

/// Fake pools (see [`crate::backend::fake`]) in the run's work dir, sized as the
/// scenario sizes its pools: loop-lvm's data file, direct-lvm's loop-backed device at
/// `thinpool_percent`, 256 MiB for a named or scratch device.
#[derive(Default)]
pub struct FakePools {
    /// One per pool built, in order: a test's way to inject failures.
    pub injectors: Vec<FakeInjector>,
    /// Called with each pool as it is built (inject failures before the first step).
    pub prepare: Option<PrepareFake>,
}

impl PoolFactory for FakePools {
    fn kernel(&self) -> bool {
        false
    }

    fn build(
        &mut self,
        _index: usize,
        pool: &PoolSpec,
        ctx: &RunContext,
        _names: &Names,
    ) -> Result<Box<dyn PoolBackend>, BackendError> {
        let data = match &pool.kind {
            PoolKindSpec::LoopLvm(l) => l.data_size,
            PoolKindSpec::DirectLvm(d) => match &d.device {
                DeviceSpec::LoopBacked { size } | DeviceSpec::Ram { size } => {
                    Bytes(size.0 / 100 * u64::from(d.thinpool_percent))
                }
                _ => Bytes(256 * Bytes::MIB),
            },
        };
        let dir: PathBuf = ctx.work_dir.join(pool.name.as_str()).join("fake");
        let fake = FakePool::new(
            &dir,
            pool.name.as_str(),
            pool.chunk,
            DataBlocks(data.0 / pool.chunk.bytes().0),
            pool.no_space == NoSpacePolicy::Error,
        )?;
        fake.set_ignore_discard(pool.ignore_discard);
        if let Some(p) = self.prepare.as_mut() {
            p(&fake);
        }
        self.injectors.push(fake.injector());
        Ok(Box::new(fake))
    }
}

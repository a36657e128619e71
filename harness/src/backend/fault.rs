//! Fault layers: dm targets stacked between a pool's backing device and the pool
//! (`[[fault]]` in a scenario). Each layer is a dm device named
//! `tb-<run>-<pool>-<device>-<target>` (uuid `THINBENCH-<run>-…`), so `thinbench cleanup`
//! finds one a crashed run left, and it is built bottom up over the backing device and
//! removed top down after the pool.
//!
//! The stack is target-agnostic: a layer is a target type and its table params over the
//! device below. Tracker issue 5 (flakey, error, log-writes, scheduled faults) adds
//! targets to [`FaultTarget`] and table swaps to [`FaultStack`]; names, recording and
//! teardown stay as they are.

use super::dm::{Dm, DmDev};
use super::names::Names;
use super::BackendError;
use crate::plan::{FaultDevice, FaultSpec, FaultTarget};

/// One live layer.
#[derive(Debug, Clone)]
pub struct FaultLayer {
    /// What the scenario asked for.
    pub spec: FaultSpec,
    /// The dm device.
    pub dev: DmDev,
    /// `major:minor` of the device below it.
    pub under: String,
}

/// The layers over one backing device, bottom first.
#[derive(Debug, Default)]
pub struct FaultStack {
    /// Bottom (over the backing device) first.
    pub layers: Vec<FaultLayer>,
}

/// The dm name suffix of a layer (`data-delay`): one layer of a target per device, which
/// validation enforces.
pub fn part(device: FaultDevice, target: &FaultTarget) -> String {
    format!("{}-{}", device.as_str(), target.dm_target())
}

/// The table params of `target` over `under` (`major:minor`).
pub fn params(target: &FaultTarget, under: &str) -> String {
    match target {
        FaultTarget::Delay(d) => d.params(under),
    }
}

/// Why `faults` cannot run on this kernel (a target it lacks, or too old for a feature),
/// as the reason a case is skipped; `None` when they can. `targets` is the kernel's
/// `(name, version)` list after loading the modules.
pub fn unsupported(faults: &[FaultSpec], targets: &[(String, String)]) -> Option<String> {
    for f in faults {
        let name = f.target.dm_target();
        let Some((_, version)) = targets.iter().find(|(n, _)| n == name) else {
            return Some(format!(
                "the kernel has no dm `{name}` target (module dm_{name} not available)"
            ));
        };
        let FaultTarget::Delay(d) = &f.target;
        // A flush delay needs the 9-argument table, which dm-delay 1.2 introduced (1.1
        // had read and write classes only).
        if d.flush_ms.is_some() && version_below(version, (1, 2)) {
            return Some(format!(
                "a flush delay needs dm-delay 1.2 or later; this kernel's is {version}"
            ));
        }
    }
    None
}

fn version_below(version: &str, (major, minor): (u32, u32)) -> bool {
    let mut it = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let v = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    v < (major, minor)
}

/// Load the dm modules `faults` need (a missing one is found by [`unsupported`] next).
pub fn load_modules(faults: &[FaultSpec]) {
    for f in faults {
        let module = format!("dm_{}", f.target.dm_target().replace('-', "_"));
        let _ = crate::sys::command::run("modprobe", &[&module]);
    }
}

impl FaultStack {
    /// Stack `faults` (those on `device`, in order) over `under` (`major:minor`, `sectors`
    /// long). Returns the stack and the `major:minor` the pool must use. On failure the
    /// layers already made are removed. Every table goes to `construction`.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        dm: &Dm,
        names: &Names,
        pool: &str,
        device: FaultDevice,
        faults: &[FaultSpec],
        under: &str,
        sectors: u64,
        construction: &mut Vec<String>,
    ) -> Result<(FaultStack, String), BackendError> {
        let mut stack = FaultStack::default();
        let mut top = under.to_owned();
        for f in faults.iter().filter(|f| f.device == device) {
            let part = part(device, &f.target);
            let name = names.dm(pool, &part);
            let p = params(&f.target, &top);
            let target = f.target.dm_target();
            let made = dm.create(
                &name,
                &names.uuid(pool, &part),
                &[(0, sectors, target.into(), p.clone())],
            );
            let dev = match made {
                Ok(d) => d,
                Err(e) => {
                    stack.teardown(dm);
                    return Err(e);
                }
            };
            construction.push(format!(
                "dmsetup create {name} --table '0 {sectors} {target} {p}'  # fault at {}",
                f.at.as_str()
            ));
            let majmin = dev.majmin();
            stack.layers.push(FaultLayer {
                spec: f.clone(),
                dev,
                under: top,
            });
            top = majmin;
        }
        Ok((stack, top))
    }

    /// Reload every layer with a new length (the device below grew), bottom up.
    pub fn resize(
        &self,
        dm: &Dm,
        sectors: u64,
        construction: &mut Vec<String>,
    ) -> Result<(), BackendError> {
        for l in &self.layers {
            let target = l.spec.target.dm_target();
            let p = params(&l.spec.target, &l.under);
            dm.reload(&l.dev.name, &[(0, sectors, target.into(), p.clone())])?;
            construction.push(format!(
                "dmsetup reload {} --table '0 {sectors} {target} {p}'; dmsetup resume --noflush",
                l.dev.name
            ));
        }
        Ok(())
    }

    /// Remove the layers, top down; the errors.
    pub fn teardown(&mut self, dm: &Dm) -> Vec<String> {
        let mut errs = Vec::new();
        while let Some(l) = self.layers.pop() {
            if let Err(e) = dm.remove(&l.dev.name, false) {
                errs.push(e.to_string());
            }
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{DelaySpec, FaultAt};

    fn delay(flush: Option<u32>) -> FaultSpec {
        FaultSpec {
            device: FaultDevice::Data,
            at: FaultAt::Start,
            target: FaultTarget::Delay(DelaySpec {
                read_ms: 0,
                write_ms: 5,
                flush_ms: flush,
            }),
        }
    }

    #[test]
    fn delay_tables() {
        let FaultTarget::Delay(d) = delay(None).target;
        assert_eq!(d.params("7:0"), "7:0 0 0 7:0 0 5");
        let FaultTarget::Delay(d) = delay(Some(9)).target;
        assert_eq!(d.params("7:0"), "7:0 0 0 7:0 0 5 7:0 0 9");
        assert_eq!(part(FaultDevice::Data, &delay(None).target), "data-delay");
        let n = Names::new("20261123T124501-1a2b");
        let name = n.dm("loop", &part(FaultDevice::Data, &delay(None).target));
        assert_eq!(name, "tb-20261123T124501-1a2b-loop-data-delay");
        assert_eq!(
            super::super::names::run_id_of(&name),
            Some("20261123T124501-1a2b")
        );
    }

    #[test]
    fn missing_or_old_targets_skip() {
        let t = |v: &str| {
            vec![
                ("thin-pool".to_owned(), "1.22.0".to_owned()),
                ("delay".to_owned(), v.to_owned()),
            ]
        };
        assert_eq!(unsupported(&[delay(Some(1))], &t("1.2.1")), None);
        assert_eq!(unsupported(&[delay(None)], &t("1.1.0")), None);
        assert!(unsupported(&[delay(Some(1))], &t("1.1.0"))
            .unwrap()
            .contains("needs dm-delay 1.2"));
        let none = vec![("thin-pool".to_owned(), "1.22.0".to_owned())];
        assert_eq!(
            unsupported(&[delay(None)], &none).as_deref(),
            Some("the kernel has no dm `delay` target (module dm_delay not available)")
        );
        assert_eq!(unsupported(&[], &none), None);
    }
}

//! Fault layers: dm targets stacked between a pool's backing devices and the pool
//! (`[[fault]]` in a scenario). Each layer is a dm device named
//! `tb-<run>-<pool>-<device>-<target>` (uuid `THINBENCH-<run>-…`), so `thinbench cleanup`
//! finds one a crashed run left; it is built bottom up over the backing device and
//! removed top down after the pool.
//!
//! A layer whose fault is not in force holds a `linear` pass-through table; going in and
//! out of force is a live swap ([`swap`]): every layer that changes is suspended with
//! noflush and no lockfs first (IO in flight is requeued, not completed, as at a power
//! cut), then every new table is loaded, then all resume — so faults that start together
//! (a power cut's data and metadata `drop_writes`) start at one instant.
//!
//! `log-writes` is not a layer of these: it goes under the whole pool, always logging
//! (`super::fault_log`).

use super::dm::{Dm, DmDev, TableLine};
use super::error::BackendError;
use super::names::Names;
use crate::spec::{ErrorSpec, FaultDevice, FaultSpec, FaultTarget};
use thinbench_schema::units::Bytes;

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

/// What the scheduler needs of a layer to swap its table (from any thread).
#[derive(Debug, Clone)]
pub struct LayerRef {
    /// The fault.
    pub spec: FaultSpec,
    /// Its dm name.
    pub dm_name: String,
    /// `major:minor` below it.
    pub under: String,
    /// The dm device of the LV whose segments the fault covers (direct-lvm, whose layers
    /// sit over the PV: the pool's `_tdata` or `_tmeta`), read at each swap into force
    /// (so it follows an `lvextend` done before); `None`: the whole device.
    pub lv: Option<String>,
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

/// The table of a layer over `under` (`major:minor`) of `sectors`: the fault's when
/// `active`, else a `linear` pass-through.
pub fn table(target: &FaultTarget, under: &str, sectors: u64, active: bool) -> Vec<TableLine> {
    let line = |t: &str, p: String| vec![(0, sectors, t.to_owned(), p)];
    if !active {
        return line("linear", format!("{under} 0"));
    }
    match target {
        FaultTarget::Delay(d) => line("delay", d.params(under)),
        FaultTarget::Flakey(f) => line("flakey", f.params(under)),
        FaultTarget::Error(e) => e.table(under, sectors),
        FaultTarget::Dust(d) => line("dust", format!("{under} 0 {}", d.block_size.0)),
        // Not a swappable layer (`super::fault_log`); a pass-through if ever asked.
        FaultTarget::LogWrites(_) => line("linear", format!("{under} 0")),
    }
}

/// The sectors of the device under a PV layer that an LV maps, in the LV's order, from
/// the LV's live table: every line must be `linear` over `pv` (`major:minor`), as lvm
/// makes an LV on one PV.
pub fn lv_regions(lv_table: &[TableLine], pv: &str) -> Result<Vec<(u64, u64)>, String> {
    let mut lines: Vec<&TableLine> = lv_table.iter().collect();
    lines.sort_by_key(|l| l.0);
    lines
        .into_iter()
        .map(|(_, len, target, params)| {
            let mut it = params.split_whitespace();
            match (target.as_str(), it.next(), it.next().map(str::parse::<u64>)) {
                ("linear", Some(dev), Some(Ok(off))) if dev == pv => Ok((off, *len)),
                _ => Err(format!(
                    "an LV segment `{target} {params}` is not linear over the PV layer {pv}"
                )),
            }
        })
        .collect()
}

/// The in-force table of a layer over `under` of `sectors` whose fault covers only
/// `regions` (sector ranges of `under`, in the LV's order: [`lv_regions`]); the rest
/// passes through. An error fault's `bad` ranges are offsets into the LV, mapped through
/// its segments onto `under`.
pub fn region_table(
    target: &FaultTarget,
    under: &str,
    sectors: u64,
    regions: &[(u64, u64)],
) -> Result<Vec<TableLine>, String> {
    if let FaultTarget::Error(e) = target {
        let mut bad = Vec::new();
        let mut lv_pos = 0u64;
        for &(start, len) in regions {
            for &(off, blen) in &e.bad {
                let (s, t) = (off.0 / 512, off.0.saturating_add(blen.0) / 512);
                let (a, b) = (s.max(lv_pos), t.min(lv_pos + len));
                if a < b {
                    bad.push((Bytes((start + a - lv_pos) * 512), Bytes((b - a) * 512)));
                }
            }
            lv_pos += len;
        }
        bad.sort();
        return Ok(ErrorSpec { bad }.table(under, sectors));
    }
    let (name, params): (&str, &dyn Fn(u64) -> String) = match target {
        FaultTarget::Delay(d) => ("delay", &|o| d.params_at(under, o)),
        FaultTarget::Flakey(f) => ("flakey", &|o| f.params_at(under, o)),
        other => {
            return Err(format!(
                "a {} layer over part of a device (direct-lvm) is not supported",
                other.dm_target()
            ))
        }
    };
    let mut sorted = regions.to_vec();
    sorted.sort();
    let mut t = Vec::new();
    let mut pos = 0u64;
    let lin = |s: u64, n: u64| (s, n, "linear".to_owned(), format!("{under} {s}"));
    for (s, n) in sorted {
        let (s, e) = (s.max(pos).min(sectors), (s + n).min(sectors));
        if s > pos {
            t.push(lin(pos, s - pos));
        }
        if e > s {
            t.push((s, e - s, name.to_owned(), params(s)));
            pos = e;
        }
    }
    if pos < sectors {
        t.push(lin(pos, sectors - pos));
    }
    Ok(t)
}

/// A layer's table: the fault's (over its LV's regions, if it has one) when `active`,
/// else a pass-through.
fn layer_table(
    dm: &Dm,
    l: &LayerRef,
    sectors: u64,
    active: bool,
) -> Result<Vec<TableLine>, BackendError> {
    match (&l.lv, active) {
        (Some(lv), true) => {
            let lv_table = dm.table(lv)?;
            // Every layer maps the PV 1:1, so the top one's sectors (what the LV's table
            // names) are every layer's.
            let top = lv_table
                .first()
                .and_then(|l| l.3.split_whitespace().next())
                .unwrap_or_default()
                .to_owned();
            let regions = lv_regions(&lv_table, &top)
                .and_then(|r| region_table(&l.spec.target, &l.under, sectors, &r));
            regions.map_err(|message| BackendError::Status {
                pool: lv.clone(),
                message,
            })
        }
        _ => Ok(table(&l.spec.target, &l.under, sectors, active)),
    }
}

/// A table as `dmsetup` would print it, for the construction record.
pub fn table_text(t: &[TableLine]) -> String {
    t.iter()
        .map(|(s, l, ty, p)| format!("{s} {l} {ty} {p}").trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\\n")
}

/// Why `faults` cannot run on this kernel (a target it lacks, or a feature it rejects),
/// as the reason a case is skipped; `None` when they can. `targets` is the kernel's
/// `(name, version)` list after loading the modules; `probe` tries a table on a scratch
/// device and says whether the kernel took it (the only reliable test of a flakey
/// feature: they came and went with kernel versions, not target versions).
pub fn unsupported(
    faults: &[FaultSpec],
    targets: &[(String, String)],
    probe: &mut dyn FnMut(&FaultTarget) -> Result<(), String>,
) -> Option<String> {
    for f in faults {
        let name = f.target.dm_target();
        // The error target is built in; the others are modules.
        let Some((_, version)) = targets.iter().find(|(n, _)| n == name) else {
            return Some(format!(
                "the kernel has no dm `{name}` target (module dm_{} not available)",
                name.replace('-', "_")
            ));
        };
        if let FaultTarget::Delay(d) = &f.target {
            // A flush delay needs the 9-argument table, which dm-delay 1.2 introduced.
            if d.flush_ms.is_some() && version_below(version, (1, 2)) {
                return Some(format!(
                    "a flush delay needs dm-delay 1.2 or later; this kernel's is {version}"
                ));
            }
        }
        if let FaultTarget::Flakey(fl) = &f.target {
            if let Err(e) = probe(&f.target) {
                return Some(format!(
                    "this kernel's dm-flakey {version} refuses mode `{}`: {e}",
                    fl.mode.as_str()
                ));
            }
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
        if matches!(f.target, FaultTarget::Error(_)) {
            continue; // built in
        }
        let module = format!("dm_{}", f.target.dm_target().replace('-', "_"));
        let _ = crate::sys::modules::ensure(&module);
    }
}

/// Try `target`'s table on a scratch `error` device (built in) of the run (`tb-<run>-probe-…`, so
/// cleanup finds one a crash left); both are removed before this returns.
pub fn probe(dm: &Dm, names: &Names, target: &FaultTarget) -> Result<(), String> {
    const SECTORS: u64 = 8;
    let base = names.dm("probe", "base");
    let zero = dm
        .create(
            &base,
            &names.uuid("probe", "base"),
            &[(0, SECTORS, "error".into(), String::new())],
        )
        .map_err(|e| e.to_string())?;
    let top = names.dm("probe", target.dm_target());
    let made = dm.create(
        &top,
        &names.uuid("probe", target.dm_target()),
        &table(target, &zero.majmin(), SECTORS, true),
    );
    if made.is_ok() {
        let _ = dm.remove(&top, false);
    }
    let _ = dm.remove(&base, false);
    made.map(|_| ()).map_err(|e| e.to_string())
}

/// Total length of a live device's table.
fn live_sectors(dm: &Dm, name: &str) -> Result<u64, BackendError> {
    Ok(dm.table(name)?.iter().map(|l| l.0 + l.1).max().unwrap_or(0))
}

/// Put `layers` into (`active`) or out of force at one instant: suspend every one (noflush,
/// no lockfs), load every new table, resume every one (bottom first). Each keeps its
/// current length. Returns the tables loaded, for the record; on error every suspended
/// layer is resumed before returning.
pub fn swap(dm: &Dm, layers: &[LayerRef], active: bool) -> Result<Vec<String>, BackendError> {
    let mut tables = Vec::with_capacity(layers.len());
    for l in layers {
        let sectors = live_sectors(dm, &l.dm_name)?;
        tables.push(layer_table(dm, l, sectors, active)?);
    }
    let mut suspended = Vec::new();
    let mut result = Ok(());
    for l in layers {
        match dm.suspend(&l.dm_name, false) {
            Ok(()) => suspended.push(l.dm_name.as_str()),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    if result.is_ok() {
        for (l, t) in layers.iter().zip(&tables) {
            if let Err(e) = dm.load(&l.dm_name, t) {
                result = Err(e);
                break;
            }
        }
    }
    // Resume whatever was suspended, also after an error: a suspended layer under a pool
    // would hang it. (A failed load leaves the old table, which resumes.)
    for name in suspended {
        if let Err(e) = dm.resume(name) {
            result = result.and(Err(e));
        }
    }
    result?;
    let mut record = Vec::new();
    for (l, t) in layers.iter().zip(&tables) {
        record.push(format!(
            "dmsetup suspend --noflush --nolockfs {0}; dmsetup load {0} --table '{1}'; dmsetup resume {0}",
            l.dm_name,
            table_text(t)
        ));
        // dm-dust starts with no bad blocks and passes IO through until enabled.
        if let (FaultTarget::Dust(d), true) = (&l.spec.target, active) {
            for b in &d.bad_blocks {
                dm.message(&l.dm_name, &format!("addbadblock {b}"))?;
            }
            dm.message(&l.dm_name, "enable")?;
            record.push(format!(
                "dmsetup message {} 0 addbadblock … ({} blocks); enable",
                l.dm_name,
                d.bad_blocks.len()
            ));
        }
    }
    Ok(record)
}

impl FaultStack {
    /// Stack `faults` (those on `device`, in order) over `under` (`major:minor`, `sectors`
    /// long): in force now when `at = "start"`, else a pass-through until the scheduler
    /// swaps them in. Returns the stack and the `major:minor` the pool must use. On
    /// failure the layers already made are removed. Every table goes to `construction`.
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
            let active = f.at == crate::spec::FaultAt::Start;
            let t = table(&f.target, &top, sectors, active);
            let dev = match dm.create(&name, &names.uuid(pool, &part), &t) {
                Ok(d) => d,
                Err(e) => {
                    stack.teardown(dm);
                    return Err(e);
                }
            };
            construction.push(format!(
                "dmsetup create {name} --table '{}'  # fault at {}, until {}",
                table_text(&t),
                f.at.text(),
                f.until.text()
            ));
            let layer = FaultLayer {
                spec: f.clone(),
                dev,
                under: top,
            };
            if active {
                if let Err(e) = swap_in_extras(dm, &layer) {
                    stack.layers.push(layer);
                    stack.teardown(dm);
                    return Err(e);
                }
            }
            top = layer.dev.majmin();
            stack.layers.push(layer);
        }
        Ok((stack, top))
    }

    /// The layers as the scheduler sees them.
    pub fn refs(&self) -> Vec<LayerRef> {
        self.layers
            .iter()
            .map(|l| LayerRef {
                spec: l.spec.clone(),
                dm_name: l.dev.name.clone(),
                under: l.under.clone(),
                lv: None,
            })
            .collect()
    }

    /// Reload every layer with a new length (the device below grew), bottom up, keeping
    /// whether its fault is in force (read from its live table).
    pub fn resize(
        &self,
        dm: &Dm,
        sectors: u64,
        construction: &mut Vec<String>,
    ) -> Result<(), BackendError> {
        for l in &self.layers {
            let live = dm.table(&l.dev.name)?;
            let active = live.iter().any(|(_, _, t, _)| t != "linear");
            let t = table(&l.spec.target, &l.under, sectors, active);
            dm.reload(&l.dev.name, &t)?;
            construction.push(format!(
                "dmsetup reload {} --table '{}'; dmsetup resume --noflush",
                l.dev.name,
                table_text(&t)
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

/// What a layer needs after its fault table is first loaded (dust's bad blocks).
fn swap_in_extras(dm: &Dm, l: &FaultLayer) -> Result<(), BackendError> {
    if let FaultTarget::Dust(d) = &l.spec.target {
        for b in &d.bad_blocks {
            dm.message(&l.dev.name, &format!("addbadblock {b}"))?;
        }
        dm.message(&l.dev.name, "enable")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{DelaySpec, ErrorSpec, FaultAt, FaultUntil, FlakeyMode, FlakeySpec};
    use thinbench_schema::units::Bytes;

    fn fault(target: FaultTarget) -> FaultSpec {
        FaultSpec {
            device: FaultDevice::Data,
            at: FaultAt::Start,
            until: FaultUntil::End,
            target,
        }
    }

    fn delay(flush: Option<u32>) -> FaultSpec {
        fault(FaultTarget::Delay(DelaySpec {
            read_ms: 0,
            write_ms: 5,
            flush_ms: flush,
        }))
    }

    fn flakey(mode: FlakeyMode) -> FaultTarget {
        FaultTarget::Flakey(FlakeySpec {
            up_s: 0,
            down_s: 60,
            mode,
        })
    }

    #[test]
    fn tables() {
        let FaultTarget::Delay(d) = delay(None).target else {
            unreachable!()
        };
        assert_eq!(d.params("7:0"), "7:0 0 0 7:0 0 5");
        let FaultTarget::Delay(d) = delay(Some(9)).target else {
            unreachable!()
        };
        assert_eq!(d.params("7:0"), "7:0 0 0 7:0 0 5 7:0 0 9");
        assert_eq!(part(FaultDevice::Data, &delay(None).target), "data-delay");
        let n = Names::new("20261123T124501-1a2b");
        let name = n.dm("loop", &part(FaultDevice::Data, &delay(None).target));
        assert_eq!(name, "tb-20261123T124501-1a2b-loop-data-delay");
        assert_eq!(
            super::super::names::run_id_of(&name),
            Some("20261123T124501-1a2b")
        );
        // Flakey: no feature, one feature, corrupt_bio_byte's four arguments.
        let t = |m| table(&flakey(m), "7:1", 100, true)[0].3.clone();
        assert_eq!(t(FlakeyMode::Fail), "7:1 0 0 60");
        assert_eq!(t(FlakeyMode::DropWrites), "7:1 0 0 60 1 drop_writes");
        assert_eq!(t(FlakeyMode::ErrorWrites), "7:1 0 0 60 1 error_writes");
        assert_eq!(
            t(FlakeyMode::CorruptBioByte {
                nth: 32,
                writes: true,
                value: 1,
                flags: 0
            }),
            "7:1 0 0 60 5 corrupt_bio_byte 32 w 1 0"
        );
        // Out of force: a pass-through of the same length.
        assert_eq!(
            table(&flakey(FlakeyMode::Fail), "7:1", 100, false),
            vec![(0, 100, "linear".to_owned(), "7:1 0".to_owned())]
        );
    }

    #[test]
    fn error_segments_splice_into_linear() {
        let e = FaultTarget::Error(ErrorSpec {
            bad: vec![(Bytes(4096), Bytes(1024)), (Bytes(8192), Bytes(512))],
        });
        let t = table(&e, "7:2", 32, true);
        let l = |s, n, ty: &str, p: &str| (s, n, ty.to_owned(), p.to_owned());
        assert_eq!(
            t,
            vec![
                l(0, 8, "linear", "7:2 0"),
                l(8, 2, "error", ""),
                l(10, 6, "linear", "7:2 10"),
                l(16, 1, "error", ""),
                l(17, 15, "linear", "7:2 17"),
            ]
        );
        // "all" (a range past the end) is one error segment, cut at the device's end.
        let all = FaultTarget::Error(ErrorSpec {
            bad: vec![(Bytes(0), Bytes(u64::MAX / 2))],
        });
        assert_eq!(table(&all, "7:2", 32, true), vec![l(0, 32, "error", "")]);
        // Segments tile the device exactly.
        let mut end = 0;
        for (s, n, ..) in &t {
            assert_eq!(*s, end);
            end += n;
        }
        assert_eq!(end, 32);
    }

    #[test]
    fn lv_regions_read_an_lvs_linear_segments_in_lv_order() {
        let l = |s, n, ty: &str, p: &str| (s, n, ty.to_owned(), p.to_owned());
        // Two segments of `_tdata` (an lvextend put the second after `_tmeta`).
        let t = vec![
            l(100, 50, "linear", "253:1 9000"),
            l(0, 100, "linear", "253:1 2048"),
        ];
        assert_eq!(
            lv_regions(&t, "253:1").unwrap(),
            vec![(2048, 100), (9000, 50)]
        );
        // A segment on another device (a second PV) is not under the layers.
        let t = vec![
            l(0, 100, "linear", "253:1 2048"),
            l(100, 8, "linear", "7:3 0"),
        ];
        assert!(lv_regions(&t, "253:1")
            .unwrap_err()
            .contains("not linear over"));
        assert!(lv_regions(&[l(0, 8, "striped", "2 8 253:1 0 7:3 0")], "253:1").is_err());
    }

    #[test]
    fn a_fault_on_an_lv_covers_its_segments_and_passes_the_rest_through() {
        let l = |s, n, ty: &str, p: &str| (s, n, ty.to_owned(), p.to_owned());
        let regions = [(2048, 100), (9000, 50)];
        let fl = flakey(FlakeyMode::DropWrites);
        assert_eq!(
            region_table(&fl, "252:16", 10000, &regions).unwrap(),
            vec![
                l(0, 2048, "linear", "252:16 0"),
                l(2048, 100, "flakey", "252:16 2048 0 60 1 drop_writes"),
                l(2148, 6852, "linear", "252:16 2148"),
                l(9000, 50, "flakey", "252:16 9000 0 60 1 drop_writes"),
                l(9050, 950, "linear", "252:16 9050"),
            ]
        );
        let FaultTarget::Delay(d) = delay(Some(9)).target else {
            unreachable!()
        };
        let t = region_table(&FaultTarget::Delay(d), "252:16", 9050, &regions).unwrap();
        assert_eq!(
            t[1],
            l(
                2048,
                100,
                "delay",
                "252:16 2048 0 252:16 2048 5 252:16 2048 9"
            )
        );
        // Ends at the device's end: no empty linear tail.
        assert_eq!(t.len(), 4);
        // Error: `bad` offsets are into the LV; 48KiB+8KiB (sectors 96..112) straddles
        // the segments: 4 sectors at the end of the first, 12 at the start of the second.
        let e = FaultTarget::Error(ErrorSpec {
            bad: vec![(Bytes(48 * 1024), Bytes(8 * 1024))],
        });
        assert_eq!(
            region_table(&e, "252:16", 10000, &regions).unwrap(),
            vec![
                l(0, 2144, "linear", "252:16 0"),
                l(2144, 4, "error", ""),
                l(2148, 6852, "linear", "252:16 2148"),
                l(9000, 12, "error", ""),
                l(9012, 988, "linear", "252:16 9012"),
            ]
        );
        // "all": exactly the LV's segments.
        let all = FaultTarget::Error(ErrorSpec {
            bad: vec![(Bytes(0), Bytes(u64::MAX / 2))],
        });
        let t = region_table(&all, "252:16", 10000, &regions).unwrap();
        let errs: Vec<_> = t
            .iter()
            .filter(|x| x.2 == "error")
            .map(|x| (x.0, x.1))
            .collect();
        assert_eq!(errs, vec![(2048, 100), (9000, 50)]);
        // dust and log-writes are not confined to segments.
        let dust = FaultTarget::Dust(crate::spec::DustSpec {
            block_size: Bytes(4096),
            bad_blocks: vec![],
        });
        assert!(region_table(&dust, "252:16", 10000, &regions).is_err());
    }

    #[test]
    fn missing_or_refused_targets_skip() {
        let t = |v: &str| {
            vec![
                ("thin-pool".to_owned(), "1.22.0".to_owned()),
                ("delay".to_owned(), v.to_owned()),
                ("flakey".to_owned(), "1.5.0".to_owned()),
            ]
        };
        let mut ok = |_: &FaultTarget| Ok(());
        assert_eq!(unsupported(&[delay(Some(1))], &t("1.2.1"), &mut ok), None);
        assert_eq!(unsupported(&[delay(None)], &t("1.1.0"), &mut ok), None);
        assert!(unsupported(&[delay(Some(1))], &t("1.1.0"), &mut ok)
            .unwrap()
            .contains("needs dm-delay 1.2"));
        let none = vec![("thin-pool".to_owned(), "1.22.0".to_owned())];
        assert_eq!(
            unsupported(&[delay(None)], &none, &mut ok).as_deref(),
            Some("the kernel has no dm `delay` target (module dm_delay not available)")
        );
        let dust = fault(FaultTarget::Dust(crate::spec::DustSpec {
            block_size: Bytes(4096),
            bad_blocks: vec![1],
        }));
        assert_eq!(
            unsupported(&[dust], &t("1.2.0"), &mut ok).as_deref(),
            Some("the kernel has no dm `dust` target (module dm_dust not available)")
        );
        let mut refuse = |_: &FaultTarget| Err("Invalid argument".to_owned());
        let er = fault(flakey(FlakeyMode::ErrorReads));
        assert_eq!(
            unsupported(&[er], &t("1.2.0"), &mut refuse).as_deref(),
            Some("this kernel's dm-flakey 1.5.0 refuses mode `error_reads`: Invalid argument")
        );
        assert_eq!(unsupported(&[], &none, &mut refuse), None);
    }
}

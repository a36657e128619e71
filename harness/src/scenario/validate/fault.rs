//! `[[fault]]` tables: the pool and device a layer goes under, when it is in force
//! (`at`, `until`), and each dm target's settings (delay, flakey, error, log-writes, dust).

use super::{Checker, SizeRule, GIB, IDENT_HINT, KIB, MAX_FAULT_DELAY, MIB, TIB};
use crate::scenario::raw::{Field, RawFault, RawPool, FAULT_KEYS};
use crate::scenario::suggest;
use crate::spec::{
    DelaySpec, DustSpec, ErrorSpec, FaultAt, FaultDevice, FaultSpec, FaultTarget, FaultUntil,
    FlakeyMode, FlakeySpec, LogWritesSpec,
};
use serde_spanned::Spanned;
use std::time::Duration;
use thinbench_schema::grammar::{format_duration as human_duration, parse_duration};
use thinbench_schema::ids::Ident;
use thinbench_schema::units::{Bytes, SECTOR_SIZE};

/// Latest `at = "time:…"` / `until = "after:…"`, and flakey's longest interval.
const MAX_FAULT_AT: Duration = Duration::from_secs(24 * 3600);
/// Most bad ranges of an `error` fault, bad blocks of a `dust` one.
const MAX_BAD_RANGES: usize = 1024;
/// Ranges must end within this (the largest device a scenario can make).
const MAX_DEVICE_BYTES: u64 = 16 * TIB;
/// A `log-writes` fault's log device.
const LOG_SIZE: SizeRule = SizeRule {
    min: MIB,
    max: 64 * GIB,
    multiple_of: 4 * KIB,
    max_why: "the log is a sparse scratch file; replay reads all of it",
};
/// dm-dust's block size (validated to 512 or 4096 after this).
const DUST_BLOCK: SizeRule = SizeRule {
    min: 512,
    max: 4096,
    multiple_of: 512,
    max_why: "dm-dust takes 512 or 4096",
};

impl Checker {
    /// One `[[fault]]`: the pool it names (as written) and its spec (`None` when the
    /// table has errors). `None` altogether when it names no pool that exists.
    pub(super) fn fault(
        &mut self,
        f: &RawFault,
        raw_pools: &[RawPool],
    ) -> Option<(String, Option<FaultSpec>)> {
        let pool = self.required(
            &f.pool,
            &f.table,
            "[[fault]] has no `pool`",
            "add `pool = \"...\"`, the name of the pool whose device it goes under",
        )?;
        let names: Vec<&str> = raw_pools
            .iter()
            .filter_map(|p| p.name.value().map(|v| v.get_ref().as_str()))
            .collect();
        let Some(raw_pool) = raw_pools.iter().find(|p| {
            p.name
                .value()
                .is_some_and(|v| v.get_ref() == pool.get_ref())
        }) else {
            let mut hint = format!("pools: {}", names.join(", "));
            if let Some(m) = suggest(pool.get_ref(), &names) {
                hint = format!("did you mean `{m}`? {hint}");
            }
            self.err_hint(
                pool.span(),
                format!("[[fault]] names no pool: `{}`", pool.get_ref()),
                hint,
            );
            return None;
        };
        let pool_name = pool.get_ref().clone();
        let target_name = self
            .required(
                &f.target,
                &f.table,
                "[[fault]] has no `target`",
                "add `target = \"flakey\"` (or delay, error, log-writes, dust)",
            )
            .and_then(|v| {
                self.choice(
                    "target",
                    v,
                    &[
                        ("delay", "delay"),
                        ("flakey", "flakey"),
                        ("error", "error"),
                        ("log-writes", "log-writes"),
                        ("dust", "dust"),
                    ],
                )
            });
        let device = self
            .required(
                &f.device,
                &f.table,
                "[[fault]] has no `device`",
                "add `device = \"data\"`, `device = \"metadata\"` or (log-writes) `device = \"pool\"`",
            )
            .and_then(|v| {
                let d = self.choice(
                    "device",
                    v,
                    &[
                        ("data", FaultDevice::Data),
                        ("metadata", FaultDevice::Metadata),
                        ("pool", FaultDevice::Pool),
                    ],
                )?;
                // One log must order the writes of both devices for a replay to be a
                // crash state, so log-writes takes the pool's devices as one.
                let lw = target_name == Some("log-writes");
                if lw != (d == FaultDevice::Pool) {
                    self.err_hint(
                        v.span(),
                        if lw {
                            "a log-writes fault goes under the whole pool: `device = \"pool\"`".to_owned()
                        } else {
                            "`device = \"pool\"` is for log-writes only".to_owned()
                        },
                        "log-writes logs the metadata and data devices as one (one order of writes for replay); other targets go on `data` or `metadata`",
                    );
                    return None;
                }
                Some(d)
            });
        let at = match &f.at {
            Field::Absent => Some(FaultAt::Start),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.fault_at(value),
        };
        let until = match &f.until {
            Field::Absent => Some(FaultUntil::End),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.fault_until(value),
        };
        if let (Some("log-writes"), Some(at), Some(until)) = (target_name, &at, &until) {
            if *at != FaultAt::Start || *until != FaultUntil::End {
                self.err_hint(
                    f.table.clone(),
                    "a log-writes fault logs from the pool's construction to its teardown",
                    "drop `at` and `until`: a replay needs the log of every write since the devices were blank",
                );
            }
        }
        if let Some(t) = target_name {
            for (key, span) in f.target_keys() {
                if !FAULT_KEYS.takes(t, key) {
                    let owners = FAULT_KEYS.variants_taking(key).join(" and ");
                    self.err_hint(
                        span,
                        format!("`{key}` is a key of the {owners} target, and this fault is {t}"),
                        format!("{t} faults take: {}", FAULT_KEYS.keys_of(t)),
                    );
                }
            }
        }
        // direct-lvm: lvm owns the stack above the PV, so the layers sit over the PV disk
        // (lvm's filter admits the top layer, never the disk) and a fault covers the
        // sectors of the pool's `_tdata` or `_tmeta` LV on it. What cannot be confined to
        // an LV's segments that way is refused.
        let kind = raw_pool.kind.value().map(|v| v.get_ref().as_str());
        let mut supported = true;
        if kind == Some("direct-lvm") {
            // log-writes is taken: its device logs the whole PV, and a replay maps the
            // log's PV sectors onto the LVs' segments.
            let refusal = match target_name {
                Some("dust") => Some((
                    "not yet: a dust fault under a direct-lvm pool",
                    "dm-dust's bad blocks count from its own start, and a direct-lvm fault is one target per LV segment of the PV: not mapped yet; use `error` ranges (offsets into the LV) or a loop-lvm pool",
                )),
                _ => None,
            };
            if let Some((msg, hint)) = refusal {
                self.err_hint(
                    f.target.key().unwrap_or_else(|| pool.span()),
                    format!("{msg} (`{pool_name}`)"),
                    hint,
                );
                supported = false;
            }
            if let Some(span) = raw_pool.vgextend_size.key() {
                self.err_hint(
                    span,
                    format!("not yet: `vgextend_size` on a direct-lvm pool with a fault (`{pool_name}`)"),
                    "the fault layers sit over the pool's first PV only; the second PV would have none; drop `vgextend_size` or the fault",
                );
                supported = false;
            }
        }
        if raw_pool.stacked_levels.is_present() {
            self.err_hint(
                pool.span(),
                format!("not yet: a fault under a stacked pool (`{pool_name}`): its data device is a thin of the pool below"),
                "put the fault on a pool without `stacked_levels`",
            );
            supported = false;
        }
        let target = self.fault_target(f, target_name);
        let spec = match (device, at, until, target, supported) {
            (Some(device), Some(at), Some(until), Some(target), true) => Some(FaultSpec {
                device,
                at,
                until,
                target,
            }),
            _ => None,
        };
        Some((pool_name, spec))
    }

    /// The settings of the fault's dm target (`None` when its name was not valid).
    fn fault_target(&mut self, f: &RawFault, target_name: Option<&str>) -> Option<FaultTarget> {
        match target_name {
            Some("delay") => {
                let read = self.delay_ms("read", &f.read);
                let write = self.delay_ms("write", &f.write);
                let flush = self.delay_ms("flush", &f.flush);
                match (read, write, flush) {
                    (Some(r), Some(w), Some(fl)) => Some(FaultTarget::Delay(DelaySpec {
                        read_ms: r.unwrap_or(0),
                        write_ms: w.unwrap_or(0),
                        flush_ms: fl,
                    })),
                    _ => None,
                }
            }
            Some("flakey") => self.flakey(f).map(FaultTarget::Flakey),
            Some("error") => self.error_ranges(f).map(FaultTarget::Error),
            Some("log-writes") => self
                .size("log_size", &f.log_size, 256 * MIB, &LOG_SIZE)
                .map(|log_size| FaultTarget::LogWrites(LogWritesSpec { log_size })),
            Some("dust") => self.dust(f).map(FaultTarget::Dust),
            _ => None,
        }
    }

    /// `at = "..."`: when a fault goes into force. Step names are checked once the steps
    /// are known (`fault_step_refs`).
    fn fault_at(&mut self, v: &Spanned<String>) -> Option<FaultAt> {
        let text = v.get_ref().trim();
        let hint = "write \"start\", \"step:NAME\" (as the step starts), \"time:5s\" (into the case), \"written:64MiB\" (by workloads) or \"usage:50%\" (pool data usage)";
        let (kind, arg) = text.split_once(':').unwrap_or((text, ""));
        let arg = arg.trim();
        match kind {
            "start" if arg.is_empty() => Some(FaultAt::Start),
            "step" => self.fault_step_ref(v, arg).map(FaultAt::Step),
            "time" => match parse_duration(arg) {
                Ok(d) if d <= MAX_FAULT_AT => Some(FaultAt::Time(d)),
                Ok(_) => {
                    self.err(
                        v.span(),
                        format!("`at` time is above {}", human_duration(MAX_FAULT_AT)),
                    );
                    None
                }
                Err(e) => {
                    self.err_hint(v.span(), format!("invalid `at` time: {e}"), hint);
                    None
                }
            },
            "written" => match thinbench_schema::grammar::parse_size(arg) {
                Ok(b) => Some(FaultAt::Written(b)),
                Err(e) => {
                    self.err_hint(v.span(), format!("invalid `at` size: {e}"), hint);
                    None
                }
            },
            "usage" => {
                let pct = arg
                    .strip_suffix('%')
                    .and_then(|n| n.trim().parse::<u8>().ok())
                    .filter(|n| (1..=100).contains(n));
                if pct.is_none() {
                    self.err_hint(
                        v.span(),
                        format!(
                            "invalid `at` usage \"{arg}\": expected a percentage from 1% to 100%"
                        ),
                        hint,
                    );
                }
                pct.map(FaultAt::Usage)
            }
            _ => {
                self.err_hint(v.span(), format!("invalid `at` \"{text}\""), hint);
                None
            }
        }
    }

    /// `until = "..."`: when a fault goes out of force.
    fn fault_until(&mut self, v: &Spanned<String>) -> Option<FaultUntil> {
        let text = v.get_ref().trim();
        let hint = "write \"end\" (the case's end), \"step:NAME\" (as the step starts) or \"after:5s\" (after it went into force); a `reboot` step ends every fault in force";
        let (kind, arg) = text.split_once(':').unwrap_or((text, ""));
        let arg = arg.trim();
        match kind {
            "end" if arg.is_empty() => Some(FaultUntil::End),
            "step" => self.fault_step_ref(v, arg).map(FaultUntil::Step),
            "after" => match parse_duration(arg) {
                Ok(d) if d > Duration::ZERO && d <= MAX_FAULT_AT => Some(FaultUntil::After(d)),
                Ok(_) => {
                    self.err(
                        v.span(),
                        format!(
                            "`until` after must be above 0 and at most {}",
                            human_duration(MAX_FAULT_AT)
                        ),
                    );
                    None
                }
                Err(e) => {
                    self.err_hint(v.span(), format!("invalid `until` duration: {e}"), hint);
                    None
                }
            },
            _ => {
                self.err_hint(v.span(), format!("invalid `until` \"{text}\""), hint);
                None
            }
        }
    }

    /// A step name in `at`/`until`: an identifier, remembered to be checked against the
    /// steps.
    fn fault_step_ref(&mut self, v: &Spanned<String>, name: &str) -> Option<Ident> {
        match Ident::new(name) {
            Ok(i) => {
                self.fault_steps.push((v.span(), i.clone()));
                Some(i)
            }
            Err(e) => {
                self.err_hint(
                    v.span(),
                    format!("invalid step name `{name}`: {e}"),
                    IDENT_HINT,
                );
                None
            }
        }
    }

    /// A flakey fault's intervals and mode.
    fn flakey(&mut self, f: &RawFault) -> Option<FlakeySpec> {
        let secs = |me: &mut Self, key: &str, field: &Field<String>, default: u32| -> Option<u32> {
            let d = me.duration(key, field, (Duration::ZERO, MAX_FAULT_AT))?;
            let Some(d) = d else { return Some(default) };
            if d.subsec_nanos() != 0 {
                if let Field::Given { value, .. } = field {
                    me.err_hint(
                        value.span(),
                        format!("`{key}` must be whole seconds"),
                        "dm-flakey's intervals are in seconds",
                    );
                }
                return None;
            }
            Some(d.as_secs() as u32)
        };
        // Down the whole time in force, unless intervals are given.
        let up = secs(self, "up", &f.up, 0);
        let down = secs(self, "down", &f.down, MAX_FAULT_AT.as_secs() as u32);
        let mode_name = match &f.mode {
            Field::Absent => Some("fail"),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.choice(
                "mode",
                value,
                &[
                    ("fail", "fail"),
                    ("drop_writes", "drop_writes"),
                    ("error_writes", "error_writes"),
                    ("error_reads", "error_reads"),
                    ("corrupt_bio_byte", "corrupt_bio_byte"),
                ],
            ),
        };
        let corrupt_keys = [
            ("corrupt_byte", f.corrupt_byte.key()),
            ("corrupt_value", f.corrupt_value.key()),
            ("corrupt_reads", f.corrupt_reads.key()),
            ("corrupt_flags", f.corrupt_flags.key()),
        ];
        if mode_name.is_some_and(|m| m != "corrupt_bio_byte") {
            for (k, span) in corrupt_keys {
                if let Some(span) = span {
                    self.err_hint(
                        span,
                        format!("`{k}` is for `mode = \"corrupt_bio_byte\"`"),
                        "drop it, or set that mode",
                    );
                }
            }
        }
        let mode = match mode_name? {
            "fail" => FlakeyMode::Fail,
            "drop_writes" => FlakeyMode::DropWrites,
            "error_writes" => FlakeyMode::ErrorWrites,
            "error_reads" => FlakeyMode::ErrorReads,
            _ => {
                let nth =
                    self.small_int("corrupt_byte", &f.corrupt_byte, 1, (1, i64::from(u32::MAX)))?;
                let value = self.small_int("corrupt_value", &f.corrupt_value, 0, (0, 255))?;
                let flags = self.small_int(
                    "corrupt_flags",
                    &f.corrupt_flags,
                    0,
                    (0, i64::from(u32::MAX)),
                )?;
                let writes = match &f.corrupt_reads {
                    Field::Given { value, .. } => !*value.get_ref(),
                    Field::Invalid { .. } => return None,
                    Field::Absent => true,
                };
                FlakeyMode::CorruptBioByte {
                    nth: nth as u32,
                    writes,
                    value: value as u8,
                    flags: flags as u32,
                }
            }
        };
        let (up, down) = (up?, down?);
        if up == 0 && down == 0 {
            self.err_hint(
                f.table.clone(),
                "flakey with `up` and `down` both 0 does nothing",
                "give `down` a length (absent: down the whole time it is in force)",
            );
            return None;
        }
        Some(FlakeySpec {
            up_s: up,
            down_s: down,
            mode,
        })
    }

    /// An integer key within `lo..=hi`, `default` when absent.
    fn small_int(
        &mut self,
        key: &str,
        f: &Field<i64>,
        default: i64,
        range: (i64, i64),
    ) -> Option<i64> {
        match f {
            Field::Absent => Some(default),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.int_value(key, value, range, None),
        }
    }

    /// An error fault's bad ranges: `"OFFSET+LENGTH"` each, or `["all"]`; whole sectors,
    /// sorted and merged.
    fn error_ranges(&mut self, f: &RawFault) -> Option<ErrorSpec> {
        let hint = "a range is \"OFFSET+LENGTH\" in sizes (\"8MiB+64KiB\"), or [\"all\"] for the whole device";
        let items = match &f.bad {
            Field::Absent => {
                self.err_hint(f.table.clone(), "an error fault has no `bad` ranges", hint);
                return None;
            }
            Field::Invalid { .. } => return None,
            Field::Given { value, .. } => value,
        };
        if items.get_ref().is_empty() {
            self.err_hint(items.span(), "`bad` is empty", hint);
            return None;
        }
        if items.get_ref().len() > MAX_BAD_RANGES {
            self.err(
                items.span(),
                format!(
                    "`bad` has {} ranges; at most {MAX_BAD_RANGES}",
                    items.get_ref().len()
                ),
            );
            return None;
        }
        let mut ranges = Vec::new();
        let mut ok = true;
        for item in items.get_ref() {
            let t = item.get_ref().trim();
            if t == "all" {
                ranges.push((Bytes(0), Bytes(u64::MAX / 2)));
                continue;
            }
            let parsed = t
                .split_once('+')
                .ok_or_else(|| "expected OFFSET+LENGTH".to_owned())
                .and_then(|(o, l)| {
                    let size = |t: &str| {
                        thinbench_schema::grammar::parse_size(t).map_err(|e| e.to_string())
                    };
                    Ok((size(o.trim())?, size(l.trim())?))
                });
            match parsed {
                Ok((o, l)) if o.0 % SECTOR_SIZE != 0 || l.0 % SECTOR_SIZE != 0 || l.0 == 0 => {
                    self.err_hint(
                        item.span(),
                        format!("bad range \"{t}\" is not whole sectors"),
                        "offsets and lengths are multiples of 512 bytes, and lengths are above 0",
                    );
                    ok = false;
                }
                Ok((o, l)) if o.0.checked_add(l.0).is_none_or(|e| e > MAX_DEVICE_BYTES) => {
                    self.err(
                        item.span(),
                        format!("bad range \"{t}\" ends beyond any device"),
                    );
                    ok = false;
                }
                Ok(r) => ranges.push(r),
                Err(e) => {
                    self.err_hint(item.span(), format!("invalid bad range \"{t}\": {e}"), hint);
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        ranges.sort();
        let mut merged: Vec<(Bytes, Bytes)> = Vec::new();
        for (o, l) in ranges {
            match merged.last_mut() {
                Some((mo, ml)) if o.0 <= mo.0 + ml.0 => ml.0 = ml.0.max(o.0 + l.0 - mo.0),
                _ => merged.push((o, l)),
            }
        }
        Some(ErrorSpec { bad: merged })
    }

    /// A dust fault's block size and bad blocks.
    fn dust(&mut self, f: &RawFault) -> Option<DustSpec> {
        let block_size = self.size("block_size", &f.block_size, 4096, &DUST_BLOCK)?;
        if block_size.0 != 512 && block_size.0 != 4096 {
            if let Field::Given { value, .. } = &f.block_size {
                self.err(value.span(), "dm-dust's `block_size` is 512 or 4096 bytes");
            }
            return None;
        }
        let bad_blocks = match &f.bad_blocks {
            Field::Absent => Vec::new(),
            Field::Invalid { .. } => return None,
            Field::Given { value, .. } => {
                let mut out = Vec::new();
                for b in value.get_ref() {
                    match u64::try_from(*b.get_ref()) {
                        Ok(n) if out.len() < MAX_BAD_RANGES => out.push(n),
                        Ok(_) => {
                            self.err(b.span(), format!("at most {MAX_BAD_RANGES} bad blocks"));
                            return None;
                        }
                        Err(_) => {
                            self.err(b.span(), "bad block numbers are not negative");
                            return None;
                        }
                    }
                }
                out
            }
        };
        Some(DustSpec {
            block_size,
            bad_blocks,
        })
    }

    /// A dm-delay delay: whole milliseconds, 0 to 60s; `Some(None)` when absent.
    fn delay_ms(&mut self, key: &str, f: &Field<String>) -> Option<Option<u32>> {
        self.duration(key, f, (Duration::ZERO, MAX_FAULT_DELAY))
            .map(|d| d.map(|d| d.as_millis() as u32))
    }
}

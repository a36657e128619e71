//! The validated `[[fault]]` layers: which device of a pool, which dm target, and when
//! each is in force.

use std::time::Duration;
use thinbench_schema::ids::Ident;
use thinbench_schema::units::Bytes;

/// One `[[fault]]`: a dm target stacked between a pool's backing device and the pool,
/// in force from `at` to `until`. A layer whose fault is not yet (or no longer) in force
/// is a `linear` pass-through; going in or out of force is a live table swap.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    /// Which of the pool's devices it sits on.
    pub device: FaultDevice,
    /// When it goes into force.
    pub at: FaultAt,
    /// When it goes out of force.
    pub until: FaultUntil,
    /// The dm target and its settings.
    pub target: FaultTarget,
}

impl FaultSpec {
    /// How the timeline and reports name it: `metadata-flakey`.
    pub fn label(&self) -> String {
        format!("{}-{}", self.device.as_str(), self.target.dm_target())
    }
}

/// A pool's backing device a fault layer goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultDevice {
    /// The data device.
    Data,
    /// The metadata device.
    Metadata,
    /// Both, as one device: the metadata then the data region under one layer
    /// (`log-writes`, whose one log then orders every write of the pool).
    Pool,
}

impl FaultDevice {
    /// As written in scenarios and used in dm names.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultDevice::Data => "data",
            FaultDevice::Metadata => "metadata",
            FaultDevice::Pool => "pool",
        }
    }
}

/// When a fault goes into force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAt {
    /// With the pool's construction.
    Start,
    /// When the named step starts.
    Step(Ident),
    /// This long after the case started (its first step).
    Time(Duration),
    /// Once workloads have written this much in the case.
    Written(Bytes),
    /// Once the pool's data usage reaches this percentage.
    Usage(u8),
}

impl FaultAt {
    /// As written in scenarios.
    pub fn text(&self) -> String {
        match self {
            FaultAt::Start => "start".into(),
            FaultAt::Step(s) => format!("step:{s}"),
            FaultAt::Time(d) => format!("time:{}ms", d.as_millis()),
            FaultAt::Written(b) => format!("written:{}", b.0),
            FaultAt::Usage(p) => format!("usage:{p}%"),
        }
    }
}

/// When a fault goes out of force. A `reboot` step ends every fault in force once the
/// pool is down (power back on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultUntil {
    /// The end of the case (before teardown, so the final checks read the device).
    End,
    /// When the named step starts.
    Step(Ident),
    /// This long after it went into force.
    After(Duration),
}

impl FaultUntil {
    /// As written in scenarios.
    pub fn text(&self) -> String {
        match self {
            FaultUntil::End => "end".into(),
            FaultUntil::Step(s) => format!("step:{s}"),
            FaultUntil::After(d) => format!("after:{}ms", d.as_millis()),
        }
    }
}

/// The dm target of a fault layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultTarget {
    /// `delay`: every bio held for a fixed time before it is passed on.
    Delay(DelaySpec),
    /// `flakey`: up/down intervals; while down, IO fails or is altered.
    Flakey(FlakeySpec),
    /// `error` segments spliced into a `linear` table: bad ranges.
    Error(ErrorSpec),
    /// `log-writes`: every write recorded, in completion order, to a log device.
    LogWrites(LogWritesSpec),
    /// `dust`: bad blocks that fail reads until written (dm-dust; Debian 6.1 lacks it).
    Dust(DustSpec),
}

impl FaultTarget {
    /// The dm target type name.
    pub fn dm_target(&self) -> &'static str {
        match self {
            FaultTarget::Delay(_) => "delay",
            FaultTarget::Flakey(_) => "flakey",
            FaultTarget::Error(_) => "error",
            FaultTarget::LogWrites(_) => "log-writes",
            FaultTarget::Dust(_) => "dust",
        }
    }
}

/// What dm-flakey does while down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlakeyMode {
    /// No feature: every bio fails with EIO.
    Fail,
    /// `drop_writes`: writes are acknowledged and thrown away (a power cut's view).
    DropWrites,
    /// `error_writes`: writes fail with EIO; reads work.
    ErrorWrites,
    /// `error_reads`: reads fail with EIO; writes work (newer kernels only).
    ErrorReads,
    /// `corrupt_bio_byte <nth> <r|w> <value> <flags>`.
    CorruptBioByte {
        /// 1-based byte of the bio's data to overwrite.
        nth: u32,
        /// Corrupt writes (`true`) or reads.
        writes: bool,
        /// The value written there.
        value: u8,
        /// Only bios with these `bi_opf` flags (0: all).
        flags: u32,
    },
}

impl FlakeyMode {
    /// As written in scenarios.
    pub fn as_str(&self) -> &'static str {
        match self {
            FlakeyMode::Fail => "fail",
            FlakeyMode::DropWrites => "drop_writes",
            FlakeyMode::ErrorWrites => "error_writes",
            FlakeyMode::ErrorReads => "error_reads",
            FlakeyMode::CorruptBioByte { .. } => "corrupt_bio_byte",
        }
    }
}

/// dm-flakey's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlakeySpec {
    /// Seconds up per cycle (0: down the whole time it is in force).
    pub up_s: u32,
    /// Seconds down per cycle.
    pub down_s: u32,
    /// What happens while down.
    pub mode: FlakeyMode,
}

impl FlakeySpec {
    /// The table params over `dev` (`major:minor`).
    pub fn params(&self, dev: &str) -> String {
        self.params_at(dev, 0)
    }

    /// The table params over `dev` from its sector `offset` (one segment of a device
    /// whose other segments pass through: direct-lvm's PV layer).
    pub fn params_at(&self, dev: &str, offset: u64) -> String {
        let mut s = format!("{dev} {offset} {} {}", self.up_s, self.down_s);
        match self.mode {
            FlakeyMode::Fail => {}
            FlakeyMode::CorruptBioByte {
                nth,
                writes,
                value,
                flags,
            } => s.push_str(&format!(
                " 5 corrupt_bio_byte {nth} {} {value} {flags}",
                if writes { 'w' } else { 'r' }
            )),
            m => s.push_str(&format!(" 1 {}", m.as_str())),
        }
        s
    }
}

/// Bad ranges of an `error` layer, in bytes from the start of the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorSpec {
    /// `(offset, length)`, sorted, not overlapping, whole sectors.
    pub bad: Vec<(Bytes, Bytes)>,
}

impl ErrorSpec {
    /// The table over `dev` (`major:minor`) of `sectors`: `linear` around `error`
    /// segments. Ranges beyond the device are cut off (validation refuses them when the
    /// size is known).
    pub fn table(&self, dev: &str, sectors: u64) -> Vec<(u64, u64, String, String)> {
        let mut t = Vec::new();
        let mut pos = 0u64;
        for &(off, len) in &self.bad {
            let (s, e) = (
                (off.0 / 512).min(sectors),
                ((off.0 + len.0) / 512).min(sectors),
            );
            if s > pos {
                t.push((pos, s - pos, "linear".into(), format!("{dev} {pos}")));
            }
            if e > s {
                t.push((s, e - s, "error".into(), String::new()));
            }
            pos = pos.max(e);
        }
        if pos < sectors {
            t.push((pos, sectors - pos, "linear".into(), format!("{dev} {pos}")));
        }
        t
    }
}

/// dm-log-writes' settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogWritesSpec {
    /// Size of the log device (a sparse file).
    pub log_size: Bytes,
}

/// dm-dust's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DustSpec {
    /// dm-dust's block size (512 or 4096).
    pub block_size: Bytes,
    /// Bad blocks, in `block_size` units.
    pub bad_blocks: Vec<u64>,
}

/// dm-delay's delays, whole milliseconds (its table's unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelaySpec {
    /// Reads.
    pub read_ms: u32,
    /// Writes (and flushes, unless `flush_ms` is given).
    pub write_ms: u32,
    /// Flushes; `Some` needs dm-delay's 9-argument table (target ≥ 1.2).
    pub flush_ms: Option<u32>,
}

impl DelaySpec {
    /// The table params over the device `dev` (`major:minor`): dm-delay's 6-argument
    /// form (flushes take the write delay), or the 9-argument form when a flush delay is
    /// given.
    pub fn params(&self, dev: &str) -> String {
        self.params_at(dev, 0)
    }

    /// The table params over `dev` from its sector `offset` (see
    /// [`FlakeySpec::params_at`]).
    pub fn params_at(&self, dev: &str, offset: u64) -> String {
        let (r, w) = (self.read_ms, self.write_ms);
        let mut s = format!("{dev} {offset} {r} {dev} {offset} {w}");
        if let Some(f) = self.flush_ms {
            s.push_str(&format!(" {dev} {offset} {f}"));
        }
        s
    }
}

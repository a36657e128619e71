//! The pool table's settings that a live pool can change ([`NoSpacePolicy`],
//! [`LowWaterMark`]) and the table-control actions' settings: `reload` (the pool's table
//! loaded again with changed features) and `resize` (the data or metadata device grown,
//! or a shrink the kernel or lvm refuses).

use thinbench_schema::units::{Bytes, ChunkSize, DataBlocks};

/// Low water mark, as written or resolved against the pool's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LowWaterMark {
    /// An absolute count of data blocks.
    Blocks(DataBlocks),
    /// A percentage (1..=100) of the pool's data blocks, rounded down.
    Percent(u8),
}

/// Kernel no-space behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoSpacePolicy {
    /// `queue_if_no_space` (kernel default): IO is held until space comes or the timeout.
    Queue,
    /// `error_if_no_space`: ENOSPC at once.
    Error,
}

/// `reload` settings: each `Some` is a change of the pool's table; `None` keeps what the
/// pool has now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadSpec {
    /// `no_space`: `error_if_no_space` on or off.
    pub no_space: Option<NoSpacePolicy>,
    /// `block_zeroing`: `skip_block_zeroing` off or on.
    pub block_zeroing: Option<bool>,
    /// `discard_passdown`: `no_discard_passdown` off or on.
    pub discard_passdown: Option<bool>,
    /// `ignore_discard`: the `ignore_discard` feature (dm-thin refuses to change it on a
    /// live pool: EINVAL).
    pub ignore_discard: Option<bool>,
    /// `read_only`: the `read_only` feature (writes that need a new block fail, pool
    /// messages are refused).
    pub read_only: Option<bool>,
    /// `low_water_mark`: blocks, or a share of the pool's blocks.
    pub low_water_mark: Option<LowWaterMark>,
    /// `chunk_size`: a new data block size (a live pool keeps its own: the kernel ignores
    /// the table's, which the step reports as refused).
    pub chunk: Option<ChunkSize>,
}

impl ReloadSpec {
    /// The table features after the reload, from the features the pool has now (table
    /// order kept; a feature turned on goes at the end).
    pub fn features(&self, now: &[String]) -> Vec<String> {
        let mut f: Vec<String> = now.to_vec();
        let mut set = |name: &str, on: Option<bool>| match on {
            Some(true) if !f.iter().any(|x| x == name) => f.push(name.to_owned()),
            Some(false) => f.retain(|x| x != name),
            _ => {}
        };
        set(
            "error_if_no_space",
            self.no_space.map(|n| n == NoSpacePolicy::Error),
        );
        set("skip_block_zeroing", self.block_zeroing.map(|z| !z));
        set("no_discard_passdown", self.discard_passdown.map(|d| !d));
        set("ignore_discard", self.ignore_discard);
        set("read_only", self.read_only);
        f
    }
}

/// Which of a pool's devices a `resize` step resizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeDevice {
    /// The data device (and the pool's table length with it).
    Data,
    /// The metadata device.
    Metadata,
}

impl ResizeDevice {
    /// As written in scenarios.
    pub fn as_str(self) -> &'static str {
        match self {
            ResizeDevice::Data => "data",
            ResizeDevice::Metadata => "metadata",
        }
    }
}

/// How much a `resize` step resizes by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeAmount {
    /// `by`: grow by this much.
    By(Bytes),
    /// `to`: this size (smaller than now is a shrink, which dm-thin and lvm refuse).
    To(Bytes),
}

impl ResizeAmount {
    /// The size after the resize of a device of `now` bytes.
    pub fn target(self, now: Bytes) -> Bytes {
        match self {
            ResizeAmount::By(b) => Bytes(now.0.saturating_add(b.0)),
            ResizeAmount::To(t) => t,
        }
    }
}

/// `resize` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResizeSpec {
    /// Which device.
    pub device: ResizeDevice,
    /// By how much, or to what size.
    pub amount: ResizeAmount,
    /// Whether the pool stays up (true: a live resize; false: thins and pool down around
    /// it, then up again).
    pub online: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn features_are_turned_on_and_off_in_place() {
        let now = strs(&["skip_block_zeroing", "error_if_no_space"]);
        let r = ReloadSpec {
            no_space: Some(NoSpacePolicy::Queue),
            block_zeroing: Some(true),
            read_only: Some(true),
            discard_passdown: Some(false),
            ..ReloadSpec::default()
        };
        assert_eq!(
            r.features(&now),
            strs(&["no_discard_passdown", "read_only"])
        );
        // Nothing asked: the same features, in the same order.
        assert_eq!(ReloadSpec::default().features(&now), now);
        // On twice is once; off of an absent feature is nothing.
        let r = ReloadSpec {
            block_zeroing: Some(false),
            ignore_discard: Some(false),
            ..ReloadSpec::default()
        };
        assert_eq!(r.features(&now), now);
    }

    #[test]
    fn resize_targets() {
        let now = Bytes(64 * Bytes::MIB);
        assert_eq!(
            ResizeAmount::By(Bytes(Bytes::MIB)).target(now),
            Bytes(65 * Bytes::MIB)
        );
        assert_eq!(
            ResizeAmount::To(Bytes(Bytes::MIB)).target(now),
            Bytes(Bytes::MIB)
        );
    }
}

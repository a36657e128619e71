//! A `discard` step's validated settings, and the byte ranges it discards on a thin of a
//! given size.

use thinbench_schema::ids::Ident;
use thinbench_schema::units::Bytes;

/// `discard` settings: BLKDISCARD on `thin`'s device, once over `[offset, offset +
/// length)`, or with `stride` once every `stride` bytes from `offset`, `count` times.
/// Every value is a multiple of 512 (the block layer refuses others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscardSpec {
    /// The thin discarded (must exist).
    pub thin: Ident,
    /// Where the (first) discard starts.
    pub offset: Bytes,
    /// Bytes per discard; `None`: to the thin's end (no `stride`).
    pub length: Option<Bytes>,
    /// From one discard's start to the next's; `None`: one discard.
    pub stride: Option<Bytes>,
    /// How many discards with `stride`; `None`: as many as fit before the thin's end
    /// (a zero stride needs a count).
    pub count: Option<u64>,
    /// A flush of the thin's device after the discards (dm-thin commits what changed).
    pub flush: bool,
}

impl DiscardSpec {
    /// The `(offset, length)` of every BLKDISCARD on a thin of `size` bytes, in order.
    /// A range past the end is kept as written: the kernel's refusal (EINVAL) is what
    /// a scenario that asks for one tests. Without a length, a single discard runs to
    /// the end (empty when `offset` is at or past it).
    pub fn ranges(&self, size: Bytes) -> Vec<(Bytes, Bytes)> {
        let length = self
            .length
            .unwrap_or(Bytes(size.0.saturating_sub(self.offset.0)));
        let Some(stride) = self.stride else {
            return vec![(self.offset, length)];
        };
        // A zero stride discards the same range `count` times (validation asks for one).
        if stride.0 == 0 {
            return vec![(self.offset, length); self.count.unwrap_or(1) as usize];
        }
        let fits = |k: u64| {
            k.checked_mul(stride.0)
                .and_then(|o| o.checked_add(self.offset.0))
                .and_then(|o| o.checked_add(length.0))
                .is_some_and(|end| end <= size.0)
        };
        let count = match self.count {
            Some(n) => n,
            None => {
                // As many whole discards as fit: the first k for which one does not.
                let mut n = 0;
                while fits(n) {
                    n += 1;
                }
                n
            }
        };
        (0..count)
            .map(|k| (Bytes(self.offset.0 + k * stride.0), length))
            .collect()
    }

    /// The end of the last range, or `None` when it overflows.
    pub fn end(&self, size: Bytes) -> Option<Bytes> {
        let length = self
            .length
            .unwrap_or(Bytes(size.0.saturating_sub(self.offset.0)));
        let last = match (self.stride, self.count) {
            (Some(s), Some(n)) if n > 0 => (n - 1).checked_mul(s.0)?,
            _ => 0,
        };
        Some(Bytes(
            self.offset.0.checked_add(last)?.checked_add(length.0)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(
        offset: u64,
        length: Option<u64>,
        stride: Option<u64>,
        count: Option<u64>,
    ) -> DiscardSpec {
        DiscardSpec {
            thin: Ident::new("t").unwrap(),
            offset: Bytes(offset),
            length: length.map(Bytes),
            stride: stride.map(Bytes),
            count,
            flush: false,
        }
    }

    #[test]
    fn one_discard_runs_to_the_end_without_a_length() {
        assert_eq!(
            spec(4096, None, None, None).ranges(Bytes(65536)),
            vec![(Bytes(4096), Bytes(61440))]
        );
        assert_eq!(
            spec(0, Some(512), None, None).ranges(Bytes(65536)),
            vec![(Bytes(0), Bytes(512))]
        );
    }

    #[test]
    fn a_stride_without_a_count_stops_at_the_last_discard_that_fits() {
        // 10 blocks of 64KiB, every other block from 0: blocks 0, 2, 4, 6, 8.
        let r = spec(0, Some(65536), Some(131072), None).ranges(Bytes(10 * 65536));
        assert_eq!(r.len(), 5);
        assert_eq!(r[4], (Bytes(8 * 65536), Bytes(65536)));
        // From block 1, a 2-block discard every 3 blocks: 1-2, 4-5, 7-8 (10-11 does not fit).
        let r = spec(65536, Some(131072), Some(196608), None).ranges(Bytes(10 * 65536));
        assert_eq!(
            r.iter().map(|(o, _)| o.0 / 65536).collect::<Vec<_>>(),
            vec![1, 4, 7]
        );
    }

    #[test]
    fn a_count_is_kept_even_past_the_end_and_end_says_where_it_stops() {
        let s = spec(0, Some(65536), Some(65536), Some(12));
        assert_eq!(s.ranges(Bytes(10 * 65536)).len(), 12);
        assert_eq!(s.end(Bytes(10 * 65536)), Some(Bytes(12 * 65536)));
        assert_eq!(spec(0, None, None, None).end(Bytes(100)), Some(Bytes(100)));
        assert_eq!(spec(u64::MAX, Some(512), None, None).end(Bytes(100)), None);
    }

    #[test]
    fn a_zero_stride_repeats_one_range() {
        let r = spec(0, Some(65536), Some(0), Some(3)).ranges(Bytes(10 * 65536));
        assert_eq!(r, vec![(Bytes(0), Bytes(65536)); 3]);
    }
}

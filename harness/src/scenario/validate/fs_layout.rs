//! A `file` write's layout (`io_size`, `pattern`, `seed`: many stamped records, in order
//! or at random offsets) and `background`: the keys beside the ones `fs.rs` checks.

use super::{Checker, SizeRule, DEFAULT_SEED};
use crate::scenario::raw::{Field, RawStep};
use crate::spec::{FileLayout, FileOp, FileOrder};
use thinbench_schema::units::Bytes;

/// One record of a layout: its header fits (a path is at most 1024 bytes), and a file
/// of 64MiB is at most 16384 of them.
const LAYOUT_RECORD: SizeRule = SizeRule {
    min: 4096,
    max: 64 * Bytes::MIB,
    multiple_of: 512,
    max_why: "a file step writes at most 64MiB",
};

impl Checker {
    /// The layout and `background` of a `file` step whose op is `op` (`None`: invalid,
    /// reported already); `None` when a key is wrong.
    pub(super) fn file_extras(
        &mut self,
        s: &RawStep,
        op: Option<&FileOp>,
    ) -> Option<(Option<FileLayout>, bool)> {
        let size = match op {
            Some(FileOp::Write { size }) => Some(Some(*size)),
            Some(_) => Some(None),
            None => None,
        };
        let mut ok = true;
        // Keys of a write only: reported at each key given to another op.
        if let Some(None) = size {
            let op = op.map_or("", FileOp::name);
            for (key, at) in [
                ("io_size", s.io_size.key()),
                ("pattern", s.pattern.key()),
                ("seed", s.seed.key()),
                ("background", s.background.key()),
            ] {
                if let Some(at) = at {
                    self.err_hint(
                        at,
                        format!("`{key}` is not a key of `op = \"{op}\"`"),
                        "only `op = \"write\"` takes it: a layout and a background run are of a new file's writes",
                    );
                    ok = false;
                }
            }
        }
        let background = self.background(s);
        let layout = self.layout(s, size.flatten());
        match (ok, layout) {
            (true, Some(layout)) => Some((layout, background)),
            _ => None,
        }
    }

    /// `io_size`, `pattern`, `seed`; `Some(None)`: one record (no `io_size`).
    fn layout(&mut self, s: &RawStep, size: Option<Bytes>) -> Option<Option<FileLayout>> {
        let random = self.choice_or(
            "pattern",
            &s.pattern,
            false,
            &[("random", true), ("sequential", false)],
        )?;
        if let (false, Some(at)) = (random, s.seed.key()) {
            self.err_hint(
                at,
                "`seed` only applies to `pattern = \"random\"`",
                "sequential records need no seed: remove it",
            );
            return None;
        }
        let Field::Given { key, .. } = &s.io_size else {
            for (k, at) in [("pattern", s.pattern.key()), ("seed", s.seed.key())] {
                if let Some(at) = at {
                    self.err_hint(
                        at,
                        format!("`{k}` orders a layout's records, and the file step has no `io_size`"),
                        "add `io_size = \"64KiB\"` (the file is then `size / io_size` records), or remove it",
                    );
                    return None;
                }
            }
            return Some(None);
        };
        let record = self.size("io_size", &s.io_size, 4096, &LAYOUT_RECORD)?;
        if let Some(size) = size {
            if size.0 < record.0 || size.0 % record.0 != 0 {
                self.err_hint(
                    key.clone(),
                    format!(
                        "`size` is {}, not a multiple of `io_size` ({})",
                        size.human(),
                        record.human()
                    ),
                    "the file is `size / io_size` whole records: make `size` a multiple of `io_size`",
                );
                return None;
            }
        }
        let order = if random {
            let seed = self.int("seed", &s.seed, DEFAULT_SEED, (0, i64::MAX), None)?;
            FileOrder::Random {
                seed: u64::try_from(seed).ok()?,
            }
        } else {
            FileOrder::Sequential
        };
        Some(Some(FileLayout { record, order }))
    }
}

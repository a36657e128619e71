//! `data_stripes` and `data_stripe_size`: a loop-lvm pool whose data device is a dm
//! `striped` target over several files (the peer's `thin_on_striped`). direct-lvm cannot:
//! lvm stripes an LV across as many PVs as stripes (`lvcreate -i N`), and Docker's
//! direct-lvm VG has one PV (the validator says so at the key).

use super::{Checker, SizeRule, MIB};
use crate::scenario::raw::{Field, RawPool};
use crate::spec::DataStripes;
use thinbench_schema::units::Bytes;

const STRIPE: SizeRule = SizeRule {
    min: 4096,
    max: 64 * MIB,
    multiple_of: 4096,
    max_why: "a stripe is a piece of one file before the next",
};

/// Why direct-lvm takes no `data_stripes`, said where a direct-lvm pool gives it.
pub(super) const DIRECT_LVM_WHY: &str = "a direct-lvm pool cannot have a striped data device here: lvm stripes an LV across as many PVs as stripes (`lvcreate -i N`), and Docker's direct-lvm VG has one PV (`vgextend_size` adds its second only after the pool is made)";

impl Checker {
    /// `Some(None)`: no stripes; `None`: invalid (reported). `data_size` is checked to
    /// be whole rows of stripes, and stripes refused with `stacked_levels` (the data
    /// device is then a thin of the pool below).
    pub(super) fn data_stripes(
        &mut self,
        p: &RawPool,
        data_size: Option<Bytes>,
    ) -> Option<Option<DataStripes>> {
        let stripes = match &p.data_stripes {
            Field::Absent => {
                if let Some(k) = p.data_stripe_size.key() {
                    self.err_hint(
                        k,
                        "`data_stripe_size` needs `data_stripes`",
                        "add `data_stripes = 2` (or more), or remove the key",
                    );
                }
                return Some(None);
            }
            Field::Invalid { .. } => return None,
            Field::Given { value, .. } => self.int_value(
                "data_stripes",
                value,
                (2, 8),
                Some("dm-stripe takes more, but eight stripes test nothing four do not"),
            )?,
        };
        if let (Some(k), Some(_)) = (p.data_stripes.key(), p.stacked_levels.key()) {
            self.err_hint(
                k,
                "`data_stripes` and `stacked_levels` both say what the data device is",
                "a stacked pool's data device is a thin of the pool below: give one of them",
            );
            return None;
        }
        let stripe = self.size("data_stripe_size", &p.data_stripe_size, 256 * 1024, &STRIPE)?;
        if !stripe.0.is_power_of_two() {
            let at = p
                .data_stripe_size
                .value()
                .map_or(p.table.clone(), |v| v.span());
            self.err_hint(
                at,
                format!(
                    "`data_stripe_size` {} is not a power of two",
                    stripe.human()
                ),
                "dm-stripe's chunk is a power of two: 64KiB, 256KiB, 1MiB, ...",
            );
            return None;
        }
        let row = stripes as u64 * stripe.0;
        if let Some(size) = data_size.filter(|s| !s.0.is_multiple_of(row)) {
            let at = p.data_size.value().map_or(p.table.clone(), |v| v.span());
            self.err_hint(
                at,
                format!(
                    "`data_size` {} is not a multiple of {stripes} stripes of {}",
                    size.human(),
                    stripe.human()
                ),
                format!(
                    "a striped data device is whole rows of stripes: a multiple of {}",
                    Bytes(row).human()
                ),
            );
            return None;
        }
        Some(Some(DataStripes {
            stripes: stripes as u32,
            stripe,
        }))
    }
}

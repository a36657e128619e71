//! The metadata actions: `metadata-fill` (map an origin, snapshot it until metadata space
//! runs out) and `repair-metadata` (the offline repair of a pool out of metadata space).

use super::walk::Region;
use super::{Checker, SizeRule, DEFAULT_IO_SIZE, GROW_BY, IO_SIZE, MIB, TIB};
use crate::scenario::raw::RawStep;
use crate::spec::{MetadataFillSpec, RepairMetadataSpec};
use serde_spanned::Spanned;
use thinbench_schema::ids::Ident;
use thinbench_schema::units::Bytes;

const METADATA_SPAN: SizeRule = SizeRule {
    min: MIB,
    max: 16 * TIB,
    multiple_of: 64 * 1024,
    max_why: "thin devices are capped at 16TiB here",
};

impl Checker {
    /// `metadata-fill` settings, and the origin region it maps (checked against the
    /// thin's size). The chunk-dependent rule (IO a divisor of the chunk) is the walk's.
    pub(super) fn metadata_fill(
        &mut self,
        s: &RawStep,
        thin: Option<Ident>,
    ) -> (Option<MetadataFillSpec>, Option<Region>) {
        let io_size = self.size("io_size", &s.io_size, DEFAULT_IO_SIZE, &IO_SIZE);
        let span = self.size("span", &s.span, 512 * MIB, &METADATA_SPAN);
        let stride = self.int(
            "stride",
            &s.stride,
            64,
            (1, 1 << 20),
            Some("a stride is a number of chunks between two writes"),
        );
        let snapshots = self.int(
            "snapshots",
            &s.snapshots,
            32,
            (1, 1000),
            Some("each snapshot is a pool message (loop-lvm) or an lvcreate (direct-lvm)"),
        );
        let region = match (io_size, span) {
            (Some(io_size), Some(span)) => Some(Region {
                io_size,
                offset: Spanned::new(s.table.clone(), Bytes(0)),
                span: Some(Spanned::new(
                    s.span.value().map_or(s.table.clone(), |v| v.span()),
                    span,
                )),
            }),
            _ => None,
        };
        let spec = match (thin, io_size, span, stride, snapshots) {
            (Some(thin), Some(io_size), Some(span), Some(stride), Some(snapshots)) => {
                Some(MetadataFillSpec {
                    thin,
                    io_size,
                    span,
                    stride: stride as u64,
                    snapshots: snapshots as u32,
                })
            }
            _ => None,
        };
        (spec, region)
    }

    /// `repair-metadata` settings.
    pub(super) fn repair_metadata(&mut self, s: &RawStep) -> Option<RepairMetadataSpec> {
        let grow_by = self.size("grow_by", &s.grow_by, 4 * MIB, &GROW_BY);
        grow_by.map(|grow_by| RepairMetadataSpec { grow_by })
    }
}

//! `delete` steps: a filesystem on the thin, files written to it, then how they are
//! deleted (`method`), with or without a snapshot kept.

use super::{Checker, SizeRule, GIB, MIB};
use crate::scenario::raw::RawStep;
use crate::spec::{DeleteMethod, DeleteSpec, FsKind};
use thinbench_schema::ids::Ident;
use thinbench_schema::units::SECTOR_SIZE;

const FILES: SizeRule = SizeRule {
    min: MIB,
    max: 16 * GIB,
    multiple_of: SECTOR_SIZE,
    max_why: "files are written through a filesystem under emulation; keep them small",
};

impl Checker {
    /// `delete` settings.
    pub(super) fn delete(&mut self, s: &RawStep, thin: Option<Ident>) -> Option<DeleteSpec> {
        let fs = self.choice_or(
            "fs",
            &s.fs,
            FsKind::Xfs,
            &[("xfs", FsKind::Xfs), ("ext4", FsKind::Ext4)],
        );
        let files = self.size("files", &s.files, 32 * MIB, &FILES);
        let files = match (files, s.files.value()) {
            (Some(b), Some(v)) if !b.0.is_multiple_of(MIB) => {
                self.err_hint(
                    v.span(),
                    format!("`files` is {}, not a whole number of MiB", b.human()),
                    "files are written as 1MiB files",
                );
                None
            }
            (f, _) => f,
        };
        let snapshot = s.snapshot.value().is_some_and(|v| *v.get_ref());
        let method = self.choice_or(
            "method",
            &s.method,
            DeleteMethod::Fstrim,
            &[
                ("none", DeleteMethod::None),
                ("fstrim", DeleteMethod::Fstrim),
                ("discard-mount", DeleteMethod::DiscardMount),
                ("blkdiscard", DeleteMethod::Blkdiscard),
            ],
        );
        Some(DeleteSpec {
            thin: thin?,
            fs: fs?,
            files: files?,
            snapshot,
            method: method?,
        })
    }
}

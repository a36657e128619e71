//! `metadata-tool`: one of thin-provisioning-tools run on the pool's metadata, as users
//! run them: on a metadata snapshot of the live pool, or on the live metadata device
//! itself, where the tools must refuse.

use thinbench_schema::ids::Ident;
use thinbench_schema::units::Bytes;

/// Which tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataTool {
    /// `thin_dump`: the metadata as XML.
    Dump,
    /// `thin_delta`: the differences between two thins' mappings.
    Delta,
    /// `thin_ls`: per-thin block counts.
    Ls,
    /// `thin_check`: the metadata's consistency.
    Check,
    /// `thin_restore`: metadata written from XML.
    Restore,
    /// `thin_repair`: metadata rebuilt from damaged metadata.
    Repair,
    /// `thin_trim`: discards of the data device's unmapped blocks.
    Trim,
}

impl MetadataTool {
    /// Every tool, by its program name.
    pub const ALL: [(&'static str, MetadataTool); 7] = [
        ("thin_dump", MetadataTool::Dump),
        ("thin_delta", MetadataTool::Delta),
        ("thin_ls", MetadataTool::Ls),
        ("thin_check", MetadataTool::Check),
        ("thin_restore", MetadataTool::Restore),
        ("thin_repair", MetadataTool::Repair),
        ("thin_trim", MetadataTool::Trim),
    ];

    /// The program's name.
    pub fn program(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("?", |(n, _)| n)
    }

    /// Whether it writes what it is given (run on live metadata, it would destroy the
    /// pool's if it did not refuse).
    pub fn writes(self) -> bool {
        matches!(
            self,
            MetadataTool::Restore | MetadataTool::Repair | MetadataTool::Trim
        )
    }
}

/// Which metadata the tool reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataSource {
    /// A metadata snapshot of the live pool: the one the scenario holds
    /// (`reserve_metadata_snap`), or one the step reserves and releases.
    Snapshot,
    /// The live pool's metadata device itself, no snapshot: the tools must refuse it.
    Live,
    /// The pool and its thins taken down for the tool and brought back after (loop-lvm).
    Inactive,
}

/// `metadata-tool` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataToolSpec {
    /// The tool.
    pub tool: MetadataTool,
    /// What it reads.
    pub metadata: MetadataSource,
    /// `thin_delta`: the right side (`--thin2`).
    pub thin: Option<Ident>,
    /// `thin_delta`: the left side (`--thin1`), usually the snapshot's origin.
    pub origin: Option<Ident>,
    /// `thin_dump`: its XML must equal that of this earlier `thin_dump` step.
    pub same_as: Option<Ident>,
    /// `thin_restore`: the earlier `thin_dump` step whose XML is restored.
    pub from: Option<Ident>,
    /// On the inactive metadata, before the tool runs: bytes overwritten with seeded
    /// pseudo-random ones (device-mapper-test-suite's `dd if=/dev/urandom`).
    pub damage: Option<Damage>,
    /// `thin_restore`: metadata thinbench writes, instead of an earlier dump's.
    pub generate: Option<GeneratedMetadata>,
    /// `thin_dump` on the inactive metadata with `--repair`, its XML restored onto it
    /// (device-mapper-test-suite's repair by dump and restore).
    pub repair: bool,
}

/// How generated metadata maps each thin's blocks onto the data device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratedLayout {
    /// Thin after thin, each block after the last: range mappings.
    Linear,
    /// A seeded permutation of the data blocks: single mappings, fragmented.
    Random,
}

/// Metadata for `thin_restore` to start from: thins, each fully mapped, on a pool with
/// no thins yet (device-mapper-test-suite's metadata generator, thinp_xml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedMetadata {
    /// The layout.
    pub layout: GeneratedLayout,
    /// The thins' names, device ids 0, 1, … in order.
    pub thins: Vec<Ident>,
    /// Each thin's size, every block of it mapped.
    pub size: Bytes,
    /// Seed of the random layout.
    pub seed: u64,
}

/// Bytes of the inactive metadata device overwritten before a tool runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Damage {
    /// Byte offset into the metadata device.
    pub at: Bytes,
    /// How many bytes.
    pub len: Bytes,
    /// Seed of the bytes written.
    pub seed: u64,
}

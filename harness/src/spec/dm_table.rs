//! `dm-table`: a table written by hand, loaded into a device of the case or the pool, or
//! made a short-lived device of its own, for the kernel's checks of tables (which target
//! may replace which, singleton targets, a pool longer than its data device).
//!
//! Hostile input: a table names devices only through references to the case's own
//! ([`DeviceRef`]), resolved at run time to `major:minor`; validation refuses any other
//! word in a device position, and every target's arguments follow its grammar, so a
//! scenario can never map a device the run did not make.

use thinbench_schema::ids::Ident;

/// A device a table names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceRef {
    /// A device made by a `create-device` step.
    Case(Ident),
    /// The pool's dm device.
    Pool,
    /// The device under the pool's metadata (as its live table names it).
    PoolMetadata,
    /// The device under the pool's data.
    PoolData,
}

impl DeviceRef {
    /// As written in a table line, inside braces.
    pub fn text(&self) -> String {
        match self {
            DeviceRef::Case(n) => format!("device:{n}"),
            DeviceRef::Pool => "pool".into(),
            DeviceRef::PoolMetadata => "pool-metadata".into(),
            DeviceRef::PoolData => "pool-data".into(),
        }
    }
}

/// A length or number in a table line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Count {
    /// As written.
    Literal(u64),
    /// The length of a device in sectors (`{sectors:…}`).
    SectorsOf(DeviceRef),
}

/// One argument of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableArg {
    /// A device (`major:minor` once resolved).
    Device(DeviceRef),
    /// A number.
    Count(Count),
    /// A keyword the target's grammar allows (a thin-pool feature).
    Word(String),
}

/// One line: `<start> <length> <target> <args…>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLineSpec {
    /// First sector.
    pub start: Count,
    /// Sectors.
    pub len: Count,
    /// The target's name (one of [`TARGETS`]).
    pub target: String,
    /// Its arguments.
    pub args: Vec<TableArg>,
}

/// Where the table goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableDevice {
    /// The case's pool: only with `expect.error` (a table the kernel took would leave a
    /// pool thinbench no longer knows; `reload` changes its settings).
    Pool,
    /// A device of the case: its stamped content ends with a table that loads.
    Case(Ident),
    /// A new device of this name, made from the table and removed when the step ends.
    Probe(Ident),
    /// A thin: its own live table loaded again (`lines` empty), resumed or left in its
    /// inactive slot for a later `resume` of the thin to swap in.
    Thin(Ident),
}

/// `dm-table` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmTableSpec {
    /// Where it goes.
    pub device: TableDevice,
    /// The table.
    pub lines: Vec<TableLineSpec>,
    /// Case devices whose first 4KiB are zeroed first (a metadata device a pool formats
    /// must not hold a stale superblock).
    pub wipe: Vec<Ident>,
    /// Resume after the load (default true; false: the table stays inactive, and a
    /// refusal at load time is what is tested).
    pub resume: bool,
    /// The data blocks the thin-pool the table makes must report.
    pub data_blocks: Option<u64>,
}

/// The targets a hand-written table may use.
pub const TARGETS: [&str; 6] = ["linear", "striped", "thin-pool", "thin", "zero", "error"];

/// The thin-pool features a hand-written table may name.
pub const POOL_FEATURES: [&str; 5] = [
    "skip_block_zeroing",
    "ignore_discard",
    "no_discard_passdown",
    "read_only",
    "error_if_no_space",
];

impl DmTableSpec {
    /// The table with its references resolved by `resolve` (`major:minor`, sectors), or
    /// the first reference it cannot resolve.
    pub fn render(
        &self,
        resolve: &dyn Fn(&DeviceRef) -> Option<(String, u64)>,
    ) -> Result<Vec<(u64, u64, String, String)>, String> {
        let count = |c: &Count| match c {
            Count::Literal(n) => Ok(*n),
            Count::SectorsOf(d) => resolve(d)
                .map(|(_, s)| s)
                .ok_or_else(|| format!("no device {{{}}}", d.text())),
        };
        self.lines
            .iter()
            .map(|l| {
                let (start, len) = (count(&l.start)?, count(&l.len)?);
                let args = l
                    .args
                    .iter()
                    .map(|a| match a {
                        TableArg::Device(d) => resolve(d)
                            .map(|(m, _)| m)
                            .ok_or_else(|| format!("no device {{{}}}", d.text())),
                        TableArg::Count(c) => count(c).map(|n| n.to_string()),
                        TableArg::Word(w) => Ok(w.clone()),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((start, len, l.target.clone(), args.join(" ")))
            })
            .collect()
    }

    /// The devices the table names, each once.
    pub fn named_devices(&self) -> Vec<&DeviceRef> {
        let mut v: Vec<&DeviceRef> = Vec::new();
        for l in &self.lines {
            let counts = [&l.start, &l.len].into_iter();
            let in_counts = counts.filter_map(|c| match c {
                Count::SectorsOf(d) => Some(d),
                Count::Literal(_) => None,
            });
            let in_args = l.args.iter().filter_map(|a| match a {
                TableArg::Device(d) | TableArg::Count(Count::SectorsOf(d)) => Some(d),
                _ => None,
            });
            for d in in_counts.chain(in_args) {
                if !v.contains(&d) {
                    v.push(d);
                }
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_to_the_devices_and_lengths_given() {
        let id = |s: &str| Ident::new(s).unwrap();
        let spec = DmTableSpec {
            device: TableDevice::Probe(id("p")),
            lines: vec![TableLineSpec {
                start: Count::Literal(0),
                len: Count::SectorsOf(DeviceRef::Case(id("data"))),
                target: "thin-pool".into(),
                args: vec![
                    TableArg::Device(DeviceRef::Case(id("md"))),
                    TableArg::Device(DeviceRef::Case(id("data"))),
                    TableArg::Count(Count::Literal(128)),
                    TableArg::Count(Count::Literal(0)),
                    TableArg::Count(Count::Literal(1)),
                    TableArg::Word("skip_block_zeroing".into()),
                ],
            }],
            wipe: vec![id("md")],
            resume: true,
            data_blocks: None,
        };
        let resolve = |d: &DeviceRef| match d {
            DeviceRef::Case(n) if n.as_str() == "md" => Some(("253:1".to_owned(), 8192)),
            DeviceRef::Case(n) if n.as_str() == "data" => Some(("253:2".to_owned(), 65536)),
            _ => None,
        };
        assert_eq!(
            spec.render(&resolve).unwrap(),
            vec![(
                0,
                65536,
                "thin-pool".into(),
                "253:1 253:2 128 0 1 skip_block_zeroing".into()
            )]
        );
        assert_eq!(spec.named_devices().len(), 2);
        let none = |_: &DeviceRef| None;
        assert_eq!(spec.render(&none).unwrap_err(), "no device {device:data}");
    }
}

//! thin-provisioning-tools against the kernel's own metadata: `thin_ls` and `thin_dump`
//! on a reserved metadata snapshot of a live pool (`reserve_metadata_snap`, read with
//! `--metadata-snap`, `release_metadata_snap`), and `thin_check` on an inactive pool's
//! metadata. Written for thin-provisioning-tools 0.9.0 (Debian 12); the parsers are
//! tested on its recorded output (`harness/tests/fixtures/thin-tools/`).
//!
//! While a metadata snapshot is held, unmapping does not free data blocks (the snapshot
//! still references them), so the snapshot is held only around one tool call, with no IO
//! of ours in flight.

use std::path::Path;

use thinbench_model::chunk::ThinMetadata;
use thinbench_schema::ids::ThinId;
use thinbench_schema::units::DataBlocks;

use super::btree_walk::MappingTrees;
use super::dm::Dm;
use super::error::BackendError;
use crate::sys::command;

/// One `thin_ls -o DEV,MAPPED_BLOCKS,EXCLUSIVE_BLOCKS,SHARED_BLOCKS` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThinLsRow {
    /// Thin device id.
    pub dev: u64,
    /// Chunks mapped.
    pub mapped: u64,
    /// Mapped blocks no other thin references.
    pub exclusive: u64,
    /// Mapped blocks another thin references too.
    pub shared: u64,
}

/// The `thin_ls` fields asked for, in this order (0.9.0's names).
pub const THIN_LS_FIELDS: &str = "DEV,MAPPED_BLOCKS,EXCLUSIVE_BLOCKS,SHARED_BLOCKS";

/// Parse `thin_ls -o DEV,MAPPED_BLOCKS,EXCLUSIVE_BLOCKS,SHARED_BLOCKS`, with or without
/// its header line.
pub fn parse_thin_ls(text: &str) -> Result<Vec<ThinLsRow>, String> {
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() || (n == 0 && f.first() == Some(&"DEV")) {
            continue;
        }
        let nums: Result<Vec<u64>, _> = f.iter().map(|x| x.parse::<u64>()).collect();
        match nums.as_deref() {
            Ok([dev, mapped, exclusive, shared]) => rows.push(ThinLsRow {
                dev: *dev,
                mapped: *mapped,
                exclusive: *exclusive,
                shared: *shared,
            }),
            _ => return Err(format!("thin_ls line {}: cannot read {line:?}", n + 1)),
        }
    }
    Ok(rows)
}

/// A `thin_dump` (XML) of a pool's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dump {
    /// The superblock's `time` (the pool's snapshot clock).
    pub time: u32,
    /// `data_block_size`, sectors.
    pub data_block_size: u64,
    /// Every thin with its mappings.
    pub thins: Vec<ThinMetadata>,
}

impl Dump {
    /// The thin with id `id`, if the metadata has it.
    pub fn thin(&self, id: ThinId) -> Option<&ThinMetadata> {
        self.thins.iter().find(|t| t.id == id)
    }
}

fn attr<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = line.find(&key)? + key.len();
    let len = line[start..].find('"')?;
    Some(&line[start..start + len])
}

fn num<T: std::str::FromStr>(line: &str, name: &str, n: usize) -> Result<T, String> {
    attr(line, name)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("thin_dump line {n}: no numeric `{name}` in {line:?}"))
}

/// Parse `thin_dump`'s XML (0.9.0: `superblock`, `device`, `range_mapping`,
/// `single_mapping`; one element per line) of a pool of `data_blocks` data blocks.
/// Anything else is an error rather than silently skipped, since a missed mapping would
/// make the model wrong; so is a mapping past the pool's end, a device with more mappings
/// than its `mapped_blocks` or than the pool has blocks, and a range whose end overflows.
/// (Ranges are expanded to one entry per chunk: these checks bound the memory that takes
/// by the pool's size, whatever lengths the text claims.)
pub fn parse_thin_dump(text: &str, data_blocks: DataBlocks) -> Result<Dump, String> {
    let mut dump: Option<Dump> = None;
    // The device being read, and the `mapped_blocks` it announced.
    let mut current: Option<(ThinMetadata, u64)> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let tag = line
            .strip_prefix('<')
            .and_then(|l| l.split([' ', '>']).next())
            .map(|t| t.trim_end_matches('/'))
            .ok_or_else(|| format!("thin_dump line {n}: not an element: {line:?}"))?;
        let d = dump.as_mut();
        match (tag, d) {
            ("superblock", None) => {
                dump = Some(Dump {
                    time: num(line, "time", n)?,
                    data_block_size: num(line, "data_block_size", n)?,
                    thins: Vec::new(),
                })
            }
            ("device", Some(_)) if current.is_none() => {
                let id: u64 = num(line, "dev_id", n)?;
                let mapped: u64 = num(line, "mapped_blocks", n)?;
                if mapped > data_blocks.0 {
                    return Err(format!(
                        "thin_dump line {n}: device {id} has {mapped} mapped blocks, more than the pool's {}",
                        data_blocks.0
                    ));
                }
                let t = ThinMetadata {
                    id: ThinId::new(id).map_err(|e| format!("thin_dump line {n}: {e}"))?,
                    snapshotted_time: num(line, "snap_time", n)?,
                    mappings: Vec::new(),
                };
                current = Some((t, mapped));
            }
            ("range_mapping", Some(_)) => {
                let (t, mapped) = current
                    .as_mut()
                    .ok_or_else(|| format!("thin_dump line {n}: mapping outside a device"))?;
                let (o, d, len, time): (u64, u64, u64, u32) = (
                    num(line, "origin_begin", n)?,
                    num(line, "data_begin", n)?,
                    num(line, "length", n)?,
                    num(line, "time", n)?,
                );
                if o.checked_add(len).is_none() {
                    return Err(format!(
                        "thin_dump line {n}: range of {len} chunks at chunk {o} overflows"
                    ));
                }
                check_mappings(n, t, *mapped, d, len, data_blocks)?;
                t.mappings.extend((0..len).map(|k| (o + k, d + k, time)));
            }
            ("single_mapping", Some(_)) => {
                let (t, mapped) = current
                    .as_mut()
                    .ok_or_else(|| format!("thin_dump line {n}: mapping outside a device"))?;
                let m = (
                    num(line, "origin_block", n)?,
                    num(line, "data_block", n)?,
                    num(line, "time", n)?,
                );
                check_mappings(n, t, *mapped, m.1, 1, data_blocks)?;
                t.mappings.push(m);
            }
            ("/device", Some(d)) => {
                let (t, _) = current
                    .take()
                    .ok_or_else(|| format!("thin_dump line {n}: </device> without <device>"))?;
                d.thins.push(t);
            }
            ("/superblock", Some(_)) if current.is_none() => {
                return dump.ok_or_else(|| "thin_dump: no superblock".to_owned());
            }
            _ => return Err(format!("thin_dump line {n}: unexpected {line:?}")),
        }
    }
    Err("thin_dump: output ends before </superblock>".into())
}

/// Whether `len` more mappings of device `t`, to data blocks from `data`, fit its
/// announced `mapped` blocks and the pool's `data_blocks`.
fn check_mappings(
    n: usize,
    t: &ThinMetadata,
    mapped: u64,
    data: u64,
    len: u64,
    data_blocks: DataBlocks,
) -> Result<(), String> {
    if data.checked_add(len).is_none_or(|end| end > data_blocks.0) {
        return Err(format!(
            "thin_dump line {n}: data blocks {data}+{len} are past the pool's end ({} blocks)",
            data_blocks.0
        ));
    }
    let have = t.mappings.len() as u64;
    if have.checked_add(len).is_none_or(|total| total > mapped) {
        return Err(format!(
            "thin_dump line {n}: device {} maps more than its mapped_blocks ({mapped})",
            t.id
        ));
    }
    Ok(())
}

/// Hold a metadata snapshot of `pool` while `f` runs; always released.
pub(crate) fn with_metadata_snap<T>(
    pool: &str,
    f: impl FnOnce() -> Result<T, BackendError>,
) -> Result<T, BackendError> {
    let dm = Dm::open()?;
    dm.message(pool, "reserve_metadata_snap")?;
    let r = f();
    let released = dm.message(pool, "release_metadata_snap");
    let v = r?;
    released?;
    Ok(v)
}

/// `thin_ls` of the live pool `pool` (its dm name) whose metadata device is `meta`, from
/// a metadata snapshot.
pub fn thin_ls(pool: &str, meta: &Path) -> Result<Vec<ThinLsRow>, BackendError> {
    let out = with_metadata_snap(pool, || run_thin_ls(meta))?;
    thin_ls_rows(pool, &out)
}

/// `thin_ls` on the held metadata snapshot of `meta`.
fn run_thin_ls(meta: &Path) -> Result<String, BackendError> {
    let m = meta.to_string_lossy();
    let args = ["--metadata-snap", "--no-headers", "-o", THIN_LS_FIELDS, &m];
    Ok(command::run("thin_ls", &args)?)
}

fn thin_ls_rows(pool: &str, out: &str) -> Result<Vec<ThinLsRow>, BackendError> {
    parse_thin_ls(out).map_err(|message| BackendError::Status {
        pool: pool.into(),
        message,
    })
}

/// [`thin_ls`], and the shape of every mapping tree read from the same metadata snapshot
/// ([`super::btree_walk`]); the walk's failure is its own, beside `thin_ls`'s rows.
pub fn thin_ls_with_trees(
    pool: &str,
    meta: &Path,
) -> Result<(Vec<ThinLsRow>, Result<MappingTrees, String>), BackendError> {
    let (out, trees) = with_metadata_snap(pool, || {
        Ok((run_thin_ls(meta)?, super::btree_walk::read_device(meta)))
    })?;
    Ok((thin_ls_rows(pool, &out)?, trees))
}

/// `thin_dump` of the live pool `pool` of `data_blocks` data blocks whose metadata device
/// is `meta`, from a metadata snapshot.
pub fn thin_dump(pool: &str, meta: &Path, data_blocks: DataBlocks) -> Result<Dump, BackendError> {
    let out = with_metadata_snap(pool, || {
        Ok(command::run(
            "thin_dump",
            &["--metadata-snap", &meta.to_string_lossy()],
        )?)
    })?;
    parse_thin_dump(&out, data_blocks).map_err(|message| BackendError::Status {
        pool: pool.into(),
        message,
    })
}

/// What `thin_check` said of a pool's metadata after teardown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataCheck {
    /// Clean.
    Ok,
    /// Errors found (its output).
    Failed(String),
    /// Not run, and why.
    Skipped(String),
}

impl MetadataCheck {
    /// The `CaseResult.metadata_check` text: `thin_check: ok`, `thin_check: failed: …`,
    /// `skipped: …`.
    pub fn text(&self) -> String {
        match self {
            MetadataCheck::Ok => "thin_check: ok".into(),
            MetadataCheck::Failed(e) => format!("thin_check: failed: {e}"),
            MetadataCheck::Skipped(why) => format!("skipped: {why}"),
        }
    }
}

/// `thin_check` on metadata no live pool uses.
pub fn thin_check(meta: &Path) -> MetadataCheck {
    match command::run("thin_check", &[&meta.to_string_lossy()]) {
        Ok(_) => MetadataCheck::Ok,
        Err(e) if e.status == "not started" => {
            MetadataCheck::Skipped(format!("thin_check could not run: {}", e.stderr))
        }
        Err(e) => MetadataCheck::Failed(thin_check_problems(&e.stderr)),
    }
}

/// The lines of `thin_check`'s report that name problems (its progress lines dropped),
/// joined with "; ".
pub fn thin_check_problems(output: &str) -> String {
    let progress = |l: &str| {
        l.starts_with("examining ")
            || l.starts_with("checking ")
            || l.starts_with("TRANSACTION_ID=")
            || l.starts_with("METADATA_FREE_BLOCKS=")
    };
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !progress(l))
        .collect();
    if lines.is_empty() {
        output.trim().to_owned()
    } else {
        lines.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixtures' pool: 1GiB of 64KiB chunks.
    const POOL: DataBlocks = DataBlocks(16_384);

    const FX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/thin-tools/");

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{FX}{name}")).unwrap()
    }

    fn row(dev: u64, mapped: u64, exclusive: u64, shared: u64) -> ThinLsRow {
        ThinLsRow {
            dev,
            mapped,
            exclusive,
            shared,
        }
    }

    #[test]
    fn thin_ls_with_and_without_headers() {
        let want = vec![
            row(1, 1040, 2, 1038),
            row(2, 1040, 2, 1038),
            row(7, 0, 0, 0),
        ];
        assert_eq!(parse_thin_ls(&fixture("thin_ls_snap.txt")).unwrap(), want);
        assert_eq!(
            parse_thin_ls(&fixture("thin_ls_snap_noheaders.txt")).unwrap(),
            want
        );
        assert_eq!(
            parse_thin_ls(&fixture("thin_ls_empty.txt")).unwrap(),
            vec![row(1, 0, 0, 0), row(7, 0, 0, 0)]
        );
        assert_eq!(parse_thin_ls("").unwrap(), vec![]);
        let e = parse_thin_ls("1 2 3\n").unwrap_err();
        assert!(e.contains("line 1"), "{e}");
        assert!(parse_thin_ls("DEV X\n1 2 3 x\n").is_err());
    }

    #[test]
    fn thin_dump_of_an_origin_and_its_snapshot() {
        let d = parse_thin_dump(&fixture("thin_dump_snap.xml"), POOL).unwrap();
        assert_eq!((d.time, d.data_block_size), (1, 128));
        let ids: Vec<u32> = d.thins.iter().map(|t| t.id.get()).collect();
        assert_eq!(ids, [1, 2, 7]);
        let t1 = d.thin(ThinId::new(1).unwrap()).unwrap();
        assert_eq!(t1.snapshotted_time, 1);
        // mapped_blocks="1040"; ranges expanded.
        assert_eq!(t1.mappings.len(), 1040);
        assert_eq!(t1.mappings[0], (0, 1040, 1));
        assert!(t1.mappings.contains(&(3003, 1038, 0)));
        assert!(t1.mappings.contains(&(8193 + 1023, 4 + 1023, 0)));
        assert_eq!(d.thins[2].mappings, vec![]);
        // The model built from it agrees with thin_ls on the same metadata.
        let chunk =
            thinbench_schema::units::ChunkSize::new(thinbench_schema::units::Bytes(64 * 1024))
                .unwrap();
        let m = thinbench_model::chunk::PoolModel::from_metadata(
            chunk,
            thinbench_schema::units::DataBlocks(4096),
            d.time,
            &d.thins,
        )
        .unwrap();
        for r in parse_thin_ls(&fixture("thin_ls_snap.txt")).unwrap() {
            let u = m.usage(ThinId::new(r.dev).unwrap()).unwrap();
            assert_eq!(
                (u.mapped.0, u.exclusive.0, u.shared.0),
                (r.mapped, r.exclusive, r.shared),
                "thin {}",
                r.dev
            );
        }
        // The status line of the same moment said 1042 blocks used.
        assert_eq!(m.data_blocks_used().0, 1042);
    }

    #[test]
    fn thin_dump_empty_and_broken() {
        let d = parse_thin_dump(&fixture("thin_dump_empty.xml"), POOL).unwrap();
        assert_eq!(d.thins.len(), 2);
        assert!(d.thins.iter().all(|t| t.mappings.is_empty()));
        let full = fixture("thin_dump_snap.xml");
        // Truncated output is an error, not a smaller pool.
        let cut: String = full.lines().take(5).collect::<Vec<_>>().join("\n");
        assert!(parse_thin_dump(&cut, POOL)
            .unwrap_err()
            .contains("ends before"));
        // An element this parser does not know is an error.
        let odd = full.replacen("<single_mapping", "<def name=\"x\"/>\n<single_mapping", 1);
        assert!(parse_thin_dump(&odd, POOL)
            .unwrap_err()
            .contains("unexpected"));
        assert!(parse_thin_dump("<superblock time=\"x\">", POOL).is_err());
    }

    /// A device of `mapped_blocks` with one mapping line, in a whole dump.
    fn dump_with(mapped_blocks: u64, mapping: &str) -> String {
        format!(
            "<superblock uuid=\"\" time=\"1\" transaction=\"0\" flags=\"0\" version=\"2\" data_block_size=\"128\" nr_data_blocks=\"0\">\n\
             <device dev_id=\"1\" mapped_blocks=\"{mapped_blocks}\" transaction=\"0\" creation_time=\"0\" snap_time=\"0\">\n\
             {mapping}\n</device>\n</superblock>\n"
        )
    }

    #[test]
    fn thin_dump_lengths_are_bounded_by_the_pool() {
        // Found by fuzzing (fuzz/ thin_dump): a range's length was expanded as given, so
        // `length="18446744073709551615"` panicked (capacity overflow) and a length in
        // the billions exhausted memory, before anything checked it against the pool.
        let range = |o: u64, d: u64, len: u64| {
            format!("<range_mapping origin_begin=\"{o}\" data_begin=\"{d}\" length=\"{len}\" time=\"0\"/>")
        };
        let e = |mapped: u64, m: &str| parse_thin_dump(&dump_with(mapped, m), POOL).unwrap_err();
        assert!(e(16, &range(0, 4, u64::MAX)).contains("past the pool's end"));
        assert!(e(16, &range(8193, 4, u64::MAX)).contains("overflows"));
        assert!(e(16, &range(0, 0, 3_000_000_000)).contains("past the pool's end"));
        assert!(e(16, &range(u64::MAX - 1, 0, 4)).contains("overflows"));
        assert!(e(3, &range(0, 0, 4)).contains("more than its mapped_blocks (3)"));
        assert!(e(16_385, "").contains("more than the pool's 16384"));
        let single = "<single_mapping origin_block=\"0\" data_block=\"1046144\" time=\"0\"/>";
        assert!(e(1, single).contains("past the pool's end"));
        // At the limits: the last block of the pool, a range ending at u64::MAX.
        let d = parse_thin_dump(&dump_with(4, &range(u64::MAX - 4, 16_380, 4)), POOL).unwrap();
        assert_eq!(d.thins[0].mappings.last(), Some(&(u64::MAX - 1, 16_383, 0)));
        // The fuzzer's own input, kept as it was found.
        let found = fixture("thin_dump_fuzz_capacity_overflow.xml");
        assert!(parse_thin_dump(&found, POOL).is_err());
    }

    #[test]
    fn thin_check_reports_only_the_problems() {
        let bad = fixture("thin_check_bad.txt");
        assert_eq!(
            thin_check_problems(bad.trim_end().trim_end_matches("rc=1")),
            "thin device 7 is missing mappings [0, -]; bad checksum in btree node (block 17)"
        );
        assert_eq!(
            MetadataCheck::Failed("x".into()).text(),
            "thin_check: failed: x"
        );
        assert_eq!(MetadataCheck::Ok.text(), "thin_check: ok");
        assert_eq!(MetadataCheck::Skipped("why".into()).text(), "skipped: why");
        assert!(fixture("thin_check_ok.txt").ends_with("rc=0\n"));
    }
}

//! Metadata thinbench writes for `thin_restore` to start a case from: thins fully
//! mapped, thin after thin or at seeded random data blocks, in thin_dump's XML (the
//! format thin-provisioning-tools reads back). A pool reaches a large or fragmented
//! state this way in the time a restore takes, not the time its IO would.

use std::fmt::Write;

use thinbench_model::chunk::ThinMetadata;
use thinbench_schema::ids::ThinId;

use crate::spec::{GeneratedLayout, GeneratedMetadata};

/// The thins' mappings: `(virtual block, data block, time 0)` for every block of each,
/// thin `i` with device id `i`. `None` when they do not fit in `data_blocks`.
pub fn mappings(
    g: &GeneratedMetadata,
    blocks_per_thin: u64,
    data_blocks: u64,
) -> Option<Vec<ThinMetadata>> {
    let n = g.thins.len() as u64;
    let needed = n.checked_mul(blocks_per_thin)?;
    if needed > data_blocks {
        return None;
    }
    let blocks: Vec<u64> = match g.layout {
        GeneratedLayout::Linear => (0..needed).collect(),
        GeneratedLayout::Random => {
            // A seeded Fisher-Yates shuffle of every data block; the first `needed` used.
            let mut all: Vec<u64> = (0..data_blocks).collect();
            let mut x = g.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            for i in (1..all.len()).rev() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                all.swap(i, (x % (i as u64 + 1)) as usize);
            }
            all.truncate(needed as usize);
            all
        }
    };
    (0..n)
        .map(|i| {
            Some(ThinMetadata {
                id: ThinId::new(i).ok()?,
                snapshotted_time: 0,
                mappings: (0..blocks_per_thin)
                    .map(|b| (b, blocks[(i * blocks_per_thin + b) as usize], 0))
                    .collect(),
            })
        })
        .collect()
}

/// thin_dump's XML for `thins` on a pool of `data_blocks` blocks of `block_sectors`:
/// runs of consecutive data blocks as range mappings, the rest single mappings.
pub fn xml(thins: &[ThinMetadata], block_sectors: u64, data_blocks: u64) -> String {
    let mut s = format!(
        "<superblock uuid=\"\" time=\"0\" transaction=\"0\" flags=\"0\" version=\"2\" data_block_size=\"{block_sectors}\" nr_data_blocks=\"{data_blocks}\">\n"
    );
    for t in thins {
        let _ = writeln!(
            s,
            "  <device dev_id=\"{}\" mapped_blocks=\"{}\" transaction=\"0\" creation_time=\"0\" snap_time=\"0\">",
            t.id,
            t.mappings.len()
        );
        let mut i = 0;
        while i < t.mappings.len() {
            let (v, d, _) = t.mappings[i];
            let mut len = 1;
            while i + len < t.mappings.len()
                && t.mappings[i + len].0 == v + len as u64
                && t.mappings[i + len].1 == d + len as u64
            {
                len += 1;
            }
            if len == 1 {
                let _ = writeln!(
                    s,
                    "    <single_mapping origin_block=\"{v}\" data_block=\"{d}\" time=\"0\"/>"
                );
            } else {
                let _ = writeln!(
                    s,
                    "    <range_mapping origin_begin=\"{v}\" data_begin=\"{d}\" length=\"{len}\" time=\"0\"/>"
                );
            }
            i += len;
        }
        s.push_str("  </device>\n");
    }
    s.push_str("</superblock>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::thin_tools::parse_thin_dump;
    use thinbench_schema::ids::Ident;
    use thinbench_schema::units::{Bytes, DataBlocks};

    fn g(layout: GeneratedLayout, n: usize) -> GeneratedMetadata {
        GeneratedMetadata {
            layout,
            thins: (0..n)
                .map(|i| Ident::new(&format!("g{i}")).unwrap())
                .collect(),
            size: Bytes(0),
            seed: 7,
        }
    }

    #[test]
    fn linear_maps_thin_after_thin_in_ranges_and_reads_back() {
        let t = mappings(&g(GeneratedLayout::Linear, 2), 10, 32).unwrap();
        assert_eq!(t[1].mappings[0], (0, 10, 0));
        let x = xml(&t, 128, 32);
        assert_eq!(x.matches("<range_mapping").count(), 2, "{x}");
        let back = parse_thin_dump(&x, DataBlocks(32)).unwrap();
        assert_eq!(back.thins, t);
        assert!(mappings(&g(GeneratedLayout::Linear, 4), 10, 32).is_none());
    }

    #[test]
    fn random_is_a_seeded_permutation_every_block_once() {
        let t = mappings(&g(GeneratedLayout::Random, 4), 8, 32).unwrap();
        let mut used: Vec<u64> = t
            .iter()
            .flat_map(|t| t.mappings.iter().map(|m| m.1))
            .collect();
        assert_ne!(used, (0..32).collect::<Vec<_>>(), "shuffled");
        used.sort_unstable();
        assert_eq!(used, (0..32).collect::<Vec<_>>());
        assert_eq!(t, mappings(&g(GeneratedLayout::Random, 4), 8, 32).unwrap());
        let back = parse_thin_dump(&xml(&t, 128, 32), DataBlocks(32)).unwrap();
        assert_eq!(back.thins, t);
    }
}

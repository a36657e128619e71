//! The oracles of `metadata-tool`: what `thin_dump` and `thin_delta` print, against what
//! the model says the pool maps. The model's block numbers are its own, so a dump agrees
//! when every thin maps the same chunks and one kernel block stands for each model block
//! throughout (the same blocks shared by the same thins).

use std::collections::BTreeMap;

use thinbench_model::chunk::PoolModel;
use thinbench_schema::ids::ThinId;

use crate::backend::thin_delta::{DeltaKind, DeltaRange};
use crate::backend::thin_tools::Dump;

/// Whether `dump` maps exactly what `model` maps: the mappings compared, or the first
/// difference in words.
pub(crate) fn dump_agrees(dump: &Dump, model: &PoolModel) -> Result<u64, String> {
    let ids: Vec<ThinId> = model.thins().collect();
    for t in &dump.thins {
        if !ids.contains(&t.id) {
            return Err(format!(
                "the metadata has thin {} and the model does not",
                t.id
            ));
        }
    }
    let (mut k2m, mut m2k) = (BTreeMap::new(), BTreeMap::new());
    let mut compared = 0;
    for id in ids {
        let want = model.mappings(id).map_err(|e| e.to_string())?;
        let Some(t) = dump.thin(id) else {
            return Err(format!("the model has thin {id} and the metadata does not"));
        };
        let mut got: Vec<(u64, u64)> = t.mappings.iter().map(|(c, b, _)| (*c, *b)).collect();
        got.sort_unstable();
        if got.len() != want.len() {
            return Err(format!(
                "thin {id} maps {} chunks in the metadata, {} in the model",
                got.len(),
                want.len()
            ));
        }
        for (&(kc, kb), &(mc, mb)) in got.iter().zip(&want) {
            if kc != mc {
                return Err(format!(
                    "thin {id}: the metadata maps chunk {kc} where the model maps chunk {mc}"
                ));
            }
            let a = *k2m.entry(kb).or_insert(mb);
            let b = *m2k.entry(mb).or_insert(kb);
            if a != mb || b != kb {
                return Err(format!(
                    "thin {id} chunk {kc}: data block {kb} is shared otherwise in the metadata than the model shares it"
                ));
            }
            compared += 1;
        }
    }
    Ok(compared)
}

/// What `thin_delta --thin1 left --thin2 right` must print, by the model: every chunk
/// either thin maps, classified, contiguous chunks of one class as one range.
pub(crate) fn model_delta(
    model: &PoolModel,
    left: ThinId,
    right: ThinId,
) -> Result<Vec<DeltaRange>, String> {
    let l: BTreeMap<u64, u64> = model
        .mappings(left)
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    let r: BTreeMap<u64, u64> = model
        .mappings(right)
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    let mut chunks: Vec<u64> = l.keys().chain(r.keys()).copied().collect();
    chunks.sort_unstable();
    chunks.dedup();
    let mut out: Vec<DeltaRange> = Vec::new();
    for c in chunks {
        let kind = match (l.get(&c), r.get(&c)) {
            (Some(a), Some(b)) if a == b => DeltaKind::Same,
            (Some(_), Some(_)) => DeltaKind::Different,
            (Some(_), None) => DeltaKind::LeftOnly,
            (None, _) => DeltaKind::RightOnly,
        };
        match out.last_mut() {
            Some(last) if last.kind == kind && last.begin + last.length == c => last.length += 1,
            _ => out.push(DeltaRange {
                kind,
                begin: c,
                length: 1,
            }),
        }
    }
    Ok(out)
}

/// Ranges as `thin_delta` names them: `same 0+2, different 2+1`.
pub(crate) fn delta_text(r: &[DeltaRange]) -> String {
    if r.is_empty() {
        return "no mapped block in either".into();
    }
    r.iter()
        .map(|d| format!("{} {}+{}", d.kind.tag(), d.begin, d.length))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use thinbench_model::chunk::ThinMetadata;
    use thinbench_schema::units::{Bytes, ChunkSize, DataBlocks};

    fn id(n: u64) -> ThinId {
        ThinId::new(n).unwrap()
    }

    /// An origin (1) with chunks 0..4 written, its snapshot (2) rewriting chunk 2 and
    /// writing chunk 7, the origin then rewriting chunk 3.
    fn pool() -> PoolModel {
        let chunk = ChunkSize::new(Bytes(64 * 1024)).unwrap();
        let mut m = PoolModel::new(chunk, DataBlocks(100));
        m.create_thin(id(1)).unwrap();
        m.write(id(1), Bytes(0), Bytes(4 * 65536)).unwrap();
        m.create_snap(id(2), id(1)).unwrap();
        m.write(id(2), Bytes(2 * 65536), Bytes(65536)).unwrap();
        m.write(id(2), Bytes(7 * 65536), Bytes(65536)).unwrap();
        m.write(id(1), Bytes(3 * 65536), Bytes(65536)).unwrap();
        m
    }

    #[test]
    fn the_model_delta_is_what_thin_delta_prints() {
        let d = model_delta(&pool(), id(1), id(2)).unwrap();
        assert_eq!(delta_text(&d), "same 0+2, different 2+2, right_only 7+1");
        let back = model_delta(&pool(), id(2), id(1)).unwrap();
        assert_eq!(delta_text(&back), "same 0+2, different 2+2, left_only 7+1");
    }

    #[test]
    fn a_dump_agrees_with_its_model_only_when_sharing_is_the_same() {
        let m = pool();
        // The kernel's own numbers: anything, so long as one stands for each.
        let mapping = |t: u64, pairs: &[(u64, u64)]| ThinMetadata {
            id: id(t),
            snapshotted_time: 1,
            mappings: pairs.iter().map(|(c, b)| (*c, *b, 0)).collect(),
        };
        let dump = |second: &[(u64, u64)]| Dump {
            time: 1,
            data_block_size: 128,
            thins: vec![
                mapping(1, &[(0, 50), (1, 51), (2, 52), (3, 60)]),
                mapping(2, second),
            ],
        };
        let good = dump(&[(0, 50), (1, 51), (2, 61), (3, 53), (7, 62)]);
        assert_eq!(dump_agrees(&good, &m), Ok(9));
        // Chunk 1 of the snapshot on its own block: sharing differs.
        let unshared = dump(&[(0, 50), (1, 70), (2, 61), (3, 53), (7, 62)]);
        assert!(dump_agrees(&unshared, &m)
            .unwrap_err()
            .contains("shared otherwise"));
        let fewer = dump(&[(0, 50), (1, 51), (2, 61), (3, 53)]);
        assert!(dump_agrees(&fewer, &m)
            .unwrap_err()
            .contains("maps 4 chunks"));
        let moved = dump(&[(0, 50), (1, 51), (2, 61), (3, 53), (8, 62)]);
        assert!(dump_agrees(&moved, &m).unwrap_err().contains("chunk 8"));
    }
}

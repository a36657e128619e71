//! The integrity oracle's data: self-describing 512-byte sectors.
//!
//! Every sector a workload writes starts with a 48-byte header, six little-endian u64s
//! `{magic, device_id, byte_offset, generation, seed, checksum}`, followed by 464 bytes
//! of pseudo-random fill. The checksum covers the five header words before it. The fill
//! is splitmix64's stream keyed by `(device_id, generation, seed)`, each word XORed with
//! the sector's checksum, so it is a pure function of the header: a sector read back says
//! by itself what it should be: whether it was ever written ([`Mismatch::Zeroed`]), where
//! it was meant to go ([`Mismatch::WrongOffset`], [`Mismatch::WrongDevice`]), whether its
//! payload is intact ([`Mismatch::Torn`]: fill from another sector, another write or
//! another generation differs) and which generation of writes it belongs to (the caller
//! compares that with the last acknowledged one).
//!
//! The sector (not the IO) is the unit because 512 bytes is the smallest unit a disk
//! writes atomically: a torn multi-sector IO shows as sectors of different generations.
//! Stamping is on the write hot path: it allocates nothing; the keyed stream is computed
//! once per call (58 words), and each sector costs its header's checksum and an XOR per
//! fill word, not a mix per word (6x cheaper, measured by `hot_paths`).

use std::fmt;

use thinbench_schema::units::{Bytes, SECTOR_SIZE};

/// Bytes per stamped sector.
pub const SECTOR: usize = SECTOR_SIZE as usize;
/// Bytes of header at the start of each sector.
pub const HEADER_LEN: usize = 48;
/// The magic word: `"thinbnch"` read as a little-endian u64.
pub const MAGIC: u64 = u64::from_le_bytes(*b"thinbnch");

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// The splitmix64 finaliser: a strong 64-bit mixer (every input bit affects every output
/// bit), cheap enough to run once per 8 bytes of fill.
#[inline(always)]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Checksum of the five header words before it. Chained mixing, so swapping two fields
/// (offset and generation, say) changes it.
#[inline]
fn header_checksum(device_id: u64, byte_offset: u64, generation: u64, seed: u64) -> u64 {
    let mut h = mix64(MAGIC ^ GOLDEN);
    for w in [device_id, byte_offset, generation, seed] {
        h = mix64(h.wrapping_add(GOLDEN) ^ w);
    }
    h
}

/// Key of the fill stream of every sector one writer stamps for one generation.
#[inline]
fn fill_key(device_id: u64, generation: u64, seed: u64) -> u64 {
    mix64(mix64(mix64(device_id ^ GOLDEN).wrapping_add(generation)) ^ seed)
}

/// Word `i` of the keyed stream, before the sector's checksum is XORed in. Indexable so
/// verify can compare word by word without a scratch buffer.
#[inline(always)]
fn stream_word(key: u64, i: u64) -> u64 {
    mix64(key.wrapping_add(GOLDEN.wrapping_mul(i + 1)))
}

/// Fill words per sector.
const FILL_WORDS: usize = (SECTOR - HEADER_LEN) / 8;

#[inline(always)]
fn word(sector: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&sector[i * 8..i * 8 + 8]);
    u64::from_le_bytes(w)
}

/// What a valid sector header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp {
    /// Device (thin) the writer meant.
    pub device_id: u64,
    /// Byte offset of this sector on that device.
    pub byte_offset: Bytes,
    /// Generation of the write: which pass of a workload wrote it.
    pub generation: u64,
    /// Seed the fill was derived from.
    pub seed: u64,
}

/// Why a sector is not what [`verify`] expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mismatch {
    /// All 512 bytes are zero: never written, discarded, or a lost write on a fresh block.
    Zeroed,
    /// Not zero but not a valid stamped sector: no magic, or the header's checksum does
    /// not match its fields (overwritten by something else, or damaged).
    Corrupt {
        /// Which check failed.
        kind: Corruption,
    },
    /// A valid header for another device: a write to another thin landed here.
    WrongDevice {
        /// Device id in the header.
        found: u64,
    },
    /// A valid header for another offset of this device: a misdirected write (or a
    /// mapping pointing at the wrong block).
    WrongOffset {
        /// Offset in the header.
        found: Bytes,
    },
    /// The header is valid and addressed to this sector, but the fill is not what it
    /// implies: part of the sector came from elsewhere (torn), or payload bits changed.
    Torn {
        /// The (valid) header.
        stamp: Stamp,
        /// First byte (within the sector) that differs.
        first_bad_byte: usize,
    },
    /// The sector is intact but of another generation than the last acknowledged write.
    /// [`verify`] does not know which generation to expect and never returns this;
    /// callers that do (such as `verify_writes`) report it.
    WrongGeneration {
        /// Generation expected.
        expected: u64,
        /// Generation found.
        found: u64,
    },
}

/// Which integrity check of a non-zero sector failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Corruption {
    /// The first word is not [`MAGIC`].
    BadMagic,
    /// Magic present but the header checksum does not match the header.
    BadChecksum,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Zeroed => f.write_str("zeroed (never written or discarded)"),
            Mismatch::Corrupt {
                kind: Corruption::BadMagic,
            } => f.write_str("corrupt: not a stamped sector"),
            Mismatch::Corrupt {
                kind: Corruption::BadChecksum,
            } => f.write_str("corrupt: header checksum mismatch"),
            Mismatch::WrongDevice { found } => write!(f, "written for device {found}"),
            Mismatch::WrongOffset { found } => {
                write!(f, "written for offset {found} (misdirected)")
            }
            Mismatch::Torn { first_bad_byte, .. } => {
                write!(f, "torn: fill differs from byte {first_bad_byte}")
            }
            Mismatch::WrongGeneration { expected, found } => {
                write!(f, "generation {found}, expected {expected}")
            }
        }
    }
}

/// Stamp every 512-byte sector of `buf`, the first at `byte_offset`, the next at
/// `byte_offset + 512`, and so on.
///
/// # Panics
/// If `buf.len()` is not a multiple of 512.
pub fn stamp(buf: &mut [u8], device_id: u64, byte_offset: Bytes, generation: u64, seed: u64) {
    assert!(
        buf.len().is_multiple_of(SECTOR),
        "stamp needs whole sectors, got {} bytes",
        buf.len()
    );
    let key = fill_key(device_id, generation, seed);
    let mut stream = [0u64; FILL_WORDS];
    for (i, w) in stream.iter_mut().enumerate() {
        *w = stream_word(key, i as u64);
    }
    let mut off = byte_offset.0;
    for sector in buf.chunks_exact_mut(SECTOR) {
        let checksum = header_checksum(device_id, off, generation, seed);
        let (header, fill) = sector.split_at_mut(HEADER_LEN);
        for (dst, w) in header
            .chunks_exact_mut(8)
            .zip([MAGIC, device_id, off, generation, seed, checksum])
        {
            dst.copy_from_slice(&w.to_le_bytes());
        }
        for (dst, w) in fill.chunks_exact_mut(8).zip(stream) {
            dst.copy_from_slice(&(w ^ checksum).to_le_bytes());
        }
        off = off.wrapping_add(SECTOR as u64);
    }
}

/// Check one sector read from `byte_offset` of device `device_id`, and return its stamp
/// (the caller checks the generation).
///
/// # Panics
/// If `sector` is not exactly 512 bytes.
pub fn verify(sector: &[u8], device_id: u64, byte_offset: Bytes) -> Result<Stamp, Mismatch> {
    assert_eq!(sector.len(), SECTOR, "verify takes one sector");
    if word(sector, 0) != MAGIC {
        return Err(if sector.iter().all(|&b| b == 0) {
            Mismatch::Zeroed
        } else {
            Mismatch::Corrupt {
                kind: Corruption::BadMagic,
            }
        });
    }
    let stamp = Stamp {
        device_id: word(sector, 1),
        byte_offset: Bytes(word(sector, 2)),
        generation: word(sector, 3),
        seed: word(sector, 4),
    };
    let checksum = header_checksum(
        stamp.device_id,
        stamp.byte_offset.0,
        stamp.generation,
        stamp.seed,
    );
    if word(sector, 5) != checksum {
        return Err(Mismatch::Corrupt {
            kind: Corruption::BadChecksum,
        });
    }
    // Where a valid header says the sector belongs matters more than its payload.
    if stamp.device_id != device_id {
        return Err(Mismatch::WrongDevice {
            found: stamp.device_id,
        });
    }
    if stamp.byte_offset != byte_offset {
        return Err(Mismatch::WrongOffset {
            found: stamp.byte_offset,
        });
    }
    let key = fill_key(stamp.device_id, stamp.generation, stamp.seed);
    for i in 0..FILL_WORDS {
        let got = word(sector, HEADER_LEN / 8 + i);
        let want = stream_word(key, i as u64) ^ checksum;
        if got != want {
            // Little-endian: the lowest differing bit's byte is the first bad byte.
            let byte = (got ^ want).trailing_zeros() as usize / 8;
            return Err(Mismatch::Torn {
                stamp,
                first_bad_byte: HEADER_LEN + i * 8 + byte,
            });
        }
    }
    Ok(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamped(n: usize, dev: u64, off: u64, gen: u64, seed: u64) -> Vec<u8> {
        let mut b = vec![0u8; n * SECTOR];
        stamp(&mut b, dev, Bytes(off), gen, seed);
        b
    }

    #[test]
    fn round_trip_every_sector() {
        let b = stamped(8, 3, 4096, 2, 99);
        for (i, s) in b.chunks_exact(SECTOR).enumerate() {
            let st = verify(s, 3, Bytes(4096 + i as u64 * 512)).unwrap();
            assert_eq!(
                st,
                Stamp {
                    device_id: 3,
                    byte_offset: Bytes(4096 + i as u64 * 512),
                    generation: 2,
                    seed: 99
                }
            );
        }
    }

    #[test]
    fn header_layout_is_stable() {
        // The on-disk layout is a contract with readers of old devices: pin it.
        let b = stamped(1, 0x11, 0x2200, 0x33, 0x44);
        assert_eq!(&b[0..8], b"thinbnch");
        assert_eq!(word(&b, 1), 0x11);
        assert_eq!(word(&b, 2), 0x2200);
        assert_eq!(word(&b, 3), 0x33);
        assert_eq!(word(&b, 4), 0x44);
        assert_eq!(word(&b, 5), header_checksum(0x11, 0x2200, 0x33, 0x44));
        // Golden values: a change of the checksum or fill function is a format change
        // (the fill became keyed by device, generation and seed, XORed with the checksum,
        // in 0.1.0 before any release: 6x cheaper stamping).
        assert_eq!(
            word(&b, 5),
            0xf9c0_a903_3adf_5f7e,
            "checksum changed: {:#x}",
            word(&b, 5)
        );
        assert_eq!(
            word(&b, 6),
            0x1699_d536_9d5d_f8b5,
            "fill changed: {:#x}",
            word(&b, 6)
        );
    }

    #[test]
    fn fill_of_a_neighbour_of_the_same_write_is_torn() {
        // Two sectors of one IO: same key, different checksums, so different fills.
        let mut b = stamped(2, 7, 8192, 3, 5);
        let (a, c) = b.split_at_mut(SECTOR);
        a[HEADER_LEN..].copy_from_slice(&c[HEADER_LEN..]);
        assert!(matches!(
            verify(&b[..SECTOR], 7, Bytes(8192)),
            Err(Mismatch::Torn {
                first_bad_byte: HEADER_LEN,
                ..
            })
        ));
        assert!(verify(&b[SECTOR..], 7, Bytes(8704)).is_ok());
    }

    #[test]
    fn fill_depends_on_every_input() {
        let base = stamped(1, 1, 512, 1, 1);
        for other in [
            stamped(1, 2, 512, 1, 1),
            stamped(1, 1, 1024, 1, 1),
            stamped(1, 1, 512, 2, 1),
            stamped(1, 1, 512, 1, 2),
        ] {
            assert_ne!(base[HEADER_LEN..], other[HEADER_LEN..]);
        }
        // And successive sectors of one IO differ (no repeated 512-byte pattern).
        let two = stamped(2, 1, 0, 1, 1);
        assert_ne!(two[HEADER_LEN..SECTOR], two[SECTOR + HEADER_LEN..]);
    }

    #[test]
    fn zeroed_and_garbage() {
        assert_eq!(verify(&[0u8; SECTOR], 1, Bytes(0)), Err(Mismatch::Zeroed));
        let mut g = [0u8; SECTOR];
        g[300] = 1;
        assert_eq!(
            verify(&g, 1, Bytes(0)),
            Err(Mismatch::Corrupt {
                kind: Corruption::BadMagic
            })
        );
        let g = [0xffu8; SECTOR];
        assert_eq!(
            verify(&g, 1, Bytes(0)),
            Err(Mismatch::Corrupt {
                kind: Corruption::BadMagic
            })
        );
    }

    #[test]
    fn damaged_header_is_corrupt_not_misdirected() {
        // A flipped bit in the offset field must not read as a misdirected write.
        let mut b = stamped(1, 1, 8192, 1, 1);
        b[16] ^= 0x02;
        assert_eq!(
            verify(&b, 1, Bytes(8192)),
            Err(Mismatch::Corrupt {
                kind: Corruption::BadChecksum
            })
        );
    }

    #[test]
    fn misdirected_and_foreign() {
        let b = stamped(1, 1, 8192, 1, 1);
        assert_eq!(
            verify(&b, 1, Bytes(4096)),
            Err(Mismatch::WrongOffset { found: Bytes(8192) })
        );
        assert_eq!(
            verify(&b, 2, Bytes(8192)),
            Err(Mismatch::WrongDevice { found: 1 })
        );
    }

    #[test]
    fn torn_sector_reports_first_bad_byte() {
        let mut b = stamped(1, 1, 0, 5, 7);
        let other = stamped(1, 1, 0, 6, 7);
        // Second half from another generation's write, header from the first.
        b[256..].copy_from_slice(&other[256..]);
        match verify(&b, 1, Bytes(0)) {
            Err(Mismatch::Torn {
                stamp,
                first_bad_byte,
            }) => {
                assert_eq!(stamp.generation, 5);
                assert!((256..264).contains(&first_bad_byte), "{first_bad_byte}");
            }
            r => panic!("expected torn, got {r:?}"),
        }
        let mut b = stamped(1, 1, 0, 5, 7);
        b[511] ^= 0x80;
        assert!(matches!(
            verify(&b, 1, Bytes(0)),
            Err(Mismatch::Torn {
                first_bad_byte: 511,
                ..
            })
        ));
    }

    #[test]
    #[should_panic(expected = "whole sectors")]
    fn stamp_rejects_partial_sectors() {
        stamp(&mut [0u8; 100], 0, Bytes(0), 0, 0);
    }

    #[test]
    fn mismatch_display_is_lowercase() {
        assert_eq!(
            Mismatch::WrongOffset { found: Bytes(512) }.to_string(),
            "written for offset 512 B (misdirected)"
        );
        assert_eq!(
            Mismatch::Zeroed.to_string(),
            "zeroed (never written or discarded)"
        );
    }
}

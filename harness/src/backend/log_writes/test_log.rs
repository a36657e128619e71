//! Logs for the tests, written in the kernel's format: the reader, the replay and the
//! format checks all start from the same bytes.

use std::num::NonZeroUsize;

use super::format::{Flags, ENTRY_LEN, LOG_MAGIC, LOG_VERSION};

/// Writes logs in the kernel's format (dm-log-writes.c `log_one_block`, `log_super`).
pub(super) struct LogBuilder {
    bs: usize,
    body: Vec<u8>,
    count: u64,
}

impl LogBuilder {
    pub(super) fn new(bs: usize) -> LogBuilder {
        LogBuilder {
            bs,
            body: Vec::new(),
            count: 0,
        }
    }

    /// One raw entry: header block (fields, `extra` after them), then `data`.
    pub(super) fn raw(&mut self, fields: [u64; 4], extra: &[u8], data: &[u8]) -> &mut Self {
        let mut hdr = vec![0u8; self.bs];
        for (i, f) in fields.iter().enumerate() {
            hdr[i * 8..i * 8 + 8].copy_from_slice(&f.to_le_bytes());
        }
        hdr[ENTRY_LEN..ENTRY_LEN + extra.len()].copy_from_slice(extra);
        self.body.extend_from_slice(&hdr);
        self.body.extend_from_slice(data);
        self.count += 1;
        self
    }

    pub(super) fn write(&mut self, sector: u64, data: &[u8], flags: Flags) -> &mut Self {
        assert_eq!(data.len() % self.bs, 0);
        let n = (data.len() / self.bs) as u64;
        self.raw([sector, n, flags.bits(), 0], &[], data)
    }

    pub(super) fn flush(&mut self) -> &mut Self {
        self.raw([0, 0, Flags::FLUSH.bits(), 0], &[], &[])
    }

    pub(super) fn discard(&mut self, sector: u64, n: u64) -> &mut Self {
        self.raw([sector, n, Flags::DISCARD.bits(), 0], &[], &[])
    }

    pub(super) fn mark(&mut self, label: &str) -> &mut Self {
        let l = label.as_bytes();
        self.raw([0, 0, Flags::MARK.bits(), l.len() as u64], l, &[])
    }

    pub(super) fn build_with(&self, nr_entries: u64) -> Vec<u8> {
        let mut sb = vec![0u8; self.bs];
        sb[0..8].copy_from_slice(&LOG_MAGIC.to_le_bytes());
        sb[8..16].copy_from_slice(&LOG_VERSION.to_le_bytes());
        sb[16..24].copy_from_slice(&nr_entries.to_le_bytes());
        sb[24..28].copy_from_slice(&(self.bs as u32).to_le_bytes());
        sb.extend_from_slice(&self.body);
        sb
    }

    pub(super) fn build(&self) -> Vec<u8> {
        self.build_with(self.count)
    }
}

/// `blocks` blocks of `bs` bytes, each filled with `byte`.
pub(super) fn fill(bs: usize, blocks: usize, byte: u8) -> Vec<u8> {
    vec![byte; bs * blocks]
}

pub(super) fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

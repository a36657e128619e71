//! Live progress of a guest's run on the host: the files the guest appends to over 9p
//! (events.jsonl, samples.csv), tailed from where they were last read.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use thinbench_schema::record::PoolSample;

/// Tails one file from where it left off; yields whole lines.
pub struct Follower {
    path: PathBuf,
    pos: u64,
    partial: String,
}

impl Follower {
    /// A follower of `path`, which need not exist yet.
    pub fn new(path: PathBuf) -> Self {
        Follower {
            path,
            pos: 0,
            partial: String::new(),
        }
    }

    /// The lines completed since the last poll (none while the file is absent).
    pub fn poll(&mut self) -> Vec<String> {
        let Ok(mut f) = fs::File::open(&self.path) else {
            return Vec::new();
        };
        let mut buf = Vec::new();
        if f.seek(SeekFrom::Start(self.pos)).is_err() || f.read_to_end(&mut buf).is_err() {
            return Vec::new();
        }
        self.pos += buf.len() as u64;
        self.partial.push_str(&String::from_utf8_lossy(&buf));
        let mut lines = Vec::new();
        while let Some(nl) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=nl).collect();
            lines.push(line.trim_end().to_owned());
        }
        lines
    }
}

/// One line of samples.csv; the header line does not parse and yields `None`.
pub fn parse_sample(line: &str) -> Option<PoolSample> {
    // Fields in file order.
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    r.deserialize().next()?.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_sample_lines_and_skips_the_header() {
        let header =
            "t_ms,pool,step,reason,data_used,data_total,meta_used,meta_total,mode,needs_check";
        assert!(parse_sample(header).is_none());
        let s = parse_sample("444,loop-lvm,0,step-start,7,4096,1648,16384,rw,false").unwrap();
        assert_eq!(
            (s.t_ms, s.step, s.data_used, s.meta_total),
            (444, Some(0), 7, 16384)
        );
        assert_eq!(
            parse_sample("9,p,,periodic,1,2,3,4,ro,true").unwrap().step,
            None
        );
    }

    #[test]
    fn yields_whole_lines_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let mut f = Follower::new(path.clone());
        assert!(f.poll().is_empty(), "no file yet");
        fs::write(&path, "one\ntw").unwrap();
        assert_eq!(f.poll(), ["one"]);
        let mut file = fs::OpenOptions::new().append(true).open(&path).unwrap();
        std::io::Write::write_all(&mut file, b"o\nthree\n").unwrap();
        assert_eq!(f.poll(), ["two", "three"]);
        assert!(f.poll().is_empty());
    }
}

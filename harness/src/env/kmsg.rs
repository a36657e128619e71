//! The kernel log, read from /dev/kmsg from the moment a case starts, so each step's
//! dm-thin lines (mode switches, low water mark) land in the run's timeline — at the
//! time the kernel logged them, not when thinbench read them: [`Kmsg::clock_mark`]
//! writes a marker into the log and reads back the kernel's timestamp of it, which ties
//! printk time to the run's clock.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;

/// One record of the kernel log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelLine {
    /// printk's timestamp: microseconds since boot (the kernel's `local_clock`).
    pub usec: u64,
    /// The message (its first line).
    pub text: String,
}

impl KernelLine {
    /// As `dmesg` shows it: `[   12.345678] message`.
    pub fn formatted(&self) -> String {
        format!(
            "[{:>5}.{:06}] {}",
            self.usec / 1_000_000,
            self.usec % 1_000_000,
            self.text
        )
    }
}

/// printk time tied to the run's clock: the kernel stamped a marker `usec` while the
/// run's clock read between `t_ms_before` and `t_ms_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockMark {
    /// The marker's printk timestamp.
    pub usec: u64,
    /// Run clock just before the marker was written.
    pub t_ms_before: u64,
    /// Run clock once it was written.
    pub t_ms_after: u64,
}

impl ClockMark {
    /// The run-clock time of a record the kernel stamped `usec` (to within
    /// [`uncertainty_ms`](Self::uncertainty_ms) plus the two clocks' drift since).
    pub fn run_ms(&self, usec: u64) -> u64 {
        let at = i128::from(self.t_ms_before) * 1000 + i128::from(usec) - i128::from(self.usec);
        (at.max(0) / 1000) as u64
    }

    /// How far apart the two readings around the marker were.
    pub fn uncertainty_ms(&self) -> u64 {
        self.t_ms_after - self.t_ms_before
    }
}

/// A reader positioned at the end of the log when opened.
pub struct Kmsg {
    f: Option<File>,
    /// Records read while looking for a marker, handed out by the next drain.
    pending: Vec<KernelLine>,
}

/// Parses one /dev/kmsg record: `<prio>,<seq>,<usec>,<flags>[,...];message\n continuation...`.
pub fn parse_record(rec: &str) -> Option<KernelLine> {
    let (head, msg) = rec.split_once(';')?;
    let usec = head.split(',').nth(2)?.parse().ok()?;
    Some(KernelLine {
        usec,
        text: msg.lines().next().unwrap_or("").to_owned(),
    })
}

impl Kmsg {
    /// Open and skip what was logged before.
    pub fn open() -> Kmsg {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open("/dev/kmsg")
            .ok();
        if let Some(f) = &f {
            use std::os::unix::io::AsRawFd;
            // SAFETY: plain lseek on an fd we own; SEEK_END on /dev/kmsg skips old records.
            unsafe { libc::lseek(f.as_raw_fd(), 0, libc::SEEK_END) };
        }
        Kmsg {
            f,
            pending: Vec::new(),
        }
    }

    fn read_records(&mut self) -> Vec<KernelLine> {
        let mut out = Vec::new();
        let Some(f) = &mut self.f else { return out };
        let mut buf = vec![0u8; 8192];
        loop {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if let Some(l) = parse_record(&String::from_utf8_lossy(&buf[..n])) {
                        out.push(l);
                    }
                }
                // EPIPE: records were overwritten; keep reading from the next one.
                Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue,
                Err(_) => break,
            }
        }
        out
    }

    /// New records since the last call.
    pub fn drain(&mut self) -> Vec<KernelLine> {
        let mut out = std::mem::take(&mut self.pending);
        out.extend(self.read_records());
        out
    }

    /// Writes a marker into the kernel log and reads its timestamp back; `now_ms` is the
    /// run's clock. `None` where the log cannot be written or the marker is not seen
    /// within a second (the records read meanwhile are kept for [`drain`](Self::drain)).
    pub fn clock_mark(&mut self, now_ms: &dyn Fn() -> u64) -> Option<ClockMark> {
        self.f.as_ref()?;
        let nonce = format!("thinbench: clock mark {}-{}", std::process::id(), now_ms());
        let mut w = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/kmsg")
            .ok()?;
        let t_ms_before = now_ms();
        // The newline ends the record: without it the kernel holds the text back as
        // the start of a line still being written.
        w.write_all(format!("{nonce}\n").as_bytes()).ok()?;
        let t_ms_after = now_ms();
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(1);
        while std::time::Instant::now() < give_up {
            for l in self.read_records() {
                if l.text.ends_with(&nonce) {
                    return Some(ClockMark {
                        usec: l.usec,
                        t_ms_before,
                        t_ms_after,
                    });
                }
                self.pending.push(l);
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse_with_their_printk_time() {
        let l = parse_record("6,1234,48561234,-;device-mapper: thin: 253:2: reached low water mark for data device: sending event.\n SUBSYSTEM=block").unwrap();
        assert_eq!(l.usec, 48_561_234);
        assert_eq!(
            l.formatted(),
            "[   48.561234] device-mapper: thin: 253:2: reached low water mark for data device: sending event."
        );
        assert_eq!(parse_record("no separator"), None);
        assert_eq!(parse_record("6,1;x"), None);
    }

    #[test]
    fn a_mark_maps_printk_time_onto_the_run_clock() {
        let m = ClockMark {
            usec: 10_000_000,
            t_ms_before: 500,
            t_ms_after: 501,
        };
        assert_eq!(m.run_ms(10_000_000), 500);
        assert_eq!(m.run_ms(11_250_400), 1750);
        // Before the run started: clamped to its start.
        assert_eq!(m.run_ms(9_000_000), 0);
        assert_eq!(m.uncertainty_ms(), 1);
    }
}

#[cfg(test)]
mod live {
    #[test]
    #[ignore = "writes to this machine's kernel log"]
    fn mark_here() {
        let t = std::time::Instant::now();
        let mut k = super::Kmsg::open();
        let m = k.clock_mark(&|| t.elapsed().as_millis() as u64);
        eprintln!("{m:?} pending {}", k.pending.len());
        assert!(m.is_some());
    }
}

//! The kernel log, read from /dev/kmsg from the moment the run starts, so each step's
//! dm-thin lines (mode switches, low water mark) land in the run's timeline.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;

/// A reader positioned at the end of the log when opened.
pub struct Kmsg {
    f: Option<File>,
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
        Kmsg { f }
    }

    /// New lines since the last call, as `[seconds] message`.
    pub fn drain(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        let Some(f) = &mut self.f else { return out };
        let mut buf = vec![0u8; 8192];
        loop {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let rec = String::from_utf8_lossy(&buf[..n]);
                    // "<prio>,<seq>,<usec>,<flags>;message\n continuation..."
                    if let Some((head, msg)) = rec.split_once(';') {
                        let usec: u64 = head
                            .split(',')
                            .nth(2)
                            .and_then(|u| u.parse().ok())
                            .unwrap_or(0);
                        let msg = msg.lines().next().unwrap_or("").to_owned();
                        out.push(format!(
                            "[{:>5}.{:06}] {msg}",
                            usec / 1_000_000,
                            usec % 1_000_000
                        ));
                    }
                }
                // EPIPE: records were overwritten; keep reading from the next one.
                Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue,
                Err(_) => break,
            }
        }
        out
    }
}

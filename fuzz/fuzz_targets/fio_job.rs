//! A scenario's fio job text → `check_job_text` (the allowlist). Never panics; an
//! accepted job has no `$` and no option outside `ALLOWED_OPTIONS` (keys split as fio
//! splits them: up to the first `;` or `#`, before the first `=`, blanks trimmed); an
//! error names a line of the text (0: the whole text) in a one-line message without
//! control characters, quoting no more than a shortened key or value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use thinbench_workloads::fio::{check_job_text, ALLOWED_OPTIONS};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match check_job_text(&text) {
        Ok(()) => {
            assert!(!text.contains('$'), "accepted a job with `$`");
            let mut jobs = 0;
            for raw in text.lines() {
                assert!(
                    !raw.trim_end_matches('\r')
                        .chars()
                        .any(|c| c.is_control() && c != '\t'),
                    "accepted a control character: {raw:?}"
                );
                let line = raw
                    .split([';', '#'])
                    .next()
                    .unwrap_or("")
                    .trim_matches([' ', '\t', '\r']);
                if line.is_empty() {
                    continue;
                }
                if let Some(name) = line.strip_prefix('[') {
                    if name != "global]" {
                        jobs += 1;
                    }
                    continue;
                }
                let key = line
                    .split('=')
                    .next()
                    .unwrap_or("")
                    .trim_matches([' ', '\t']);
                assert!(
                    ALLOWED_OPTIONS.contains(&key.to_ascii_lowercase().as_str()),
                    "accepted option {key:?} (line {raw:?})"
                );
                assert!(!key.to_ascii_lowercase().starts_with("include"));
            }
            assert!(jobs >= 1, "accepted a job without a job section");
        }
        Err(e) => {
            let lines = text.lines().count();
            assert!(e.line <= lines, "line {} of {lines}: {e:?}", e.line);
            assert!(
                !e.message.is_empty() && !e.message.chars().any(char::is_control),
                "message with a control character or newline: {e:?}"
            );
            let list = ALLOWED_OPTIONS.join(", ").len();
            assert!(
                e.message.len() <= 1_000 + list,
                "message of {} bytes: {e:?}",
                e.message.len()
            );
        }
    }
});

//! The check of a scenario's own fio job, by allowlist (re-exported from [`crate::fio`]).
//!
//! Scenario files are untrusted input that a CI runs as root, and fio is a general tool:
//! a job can write logs anywhere (`write_bw_log=/etc/x`), run programs
//! (`exec_prerun`, `ioengine=exec`), load libraries (`ioengine=external:/x.so`, or any
//! engine name fio does not know, which it dlopens), move itself into cgroups, change
//! the host's IO scheduler, read other files (`include`, `read_iolog`, a pattern's
//! `'file'`), expand the environment (`${HOME}`) or run `bc` on a value (`$ncpus*2`).
//! So a job may use only the options in [`ALLOWED_OPTIONS`], some with their values
//! restricted too, and nothing that fio would expand.
//!
//! The rule: *an option is allowed only if it shapes IO on the command-line device and
//! names no file, program, library, cgroup, scheduler, CPU/NUMA placement, or host
//! resource.* thinbench gives fio the step's thin device with `--filename` on fio's
//! command line; the job says only what IO to do there.
//!
//! The check follows how fio (3.x, `init.c` `__parse_jobs_ini`) reads a job file: a line
//! at a time; leading blanks skipped; everything from the first `;` or `#` a comment;
//! a line starting with `[` a section (any name starting with `global` is `[global]`);
//! otherwise `key=value` or a bare `key`, the key case-sensitive (compared here in ASCII
//! lower case, which only refuses more); a line starting with `include` reads another
//! file. Then per option fio replaces `${VAR}` with the environment's `VAR` and
//! `$pagesize`, `$mb_memory`, `$ncpus` with the host's figures, then hands the value to
//! `bc` through a shell if such a keyword was there: hence no `$` anywhere.

use std::fmt::Write as _;

/// A job's text may be this long at most (64 KiB).
pub const MAX_JOB_BYTES: usize = 64 * 1024;

/// A job may have this many lines at most.
pub const MAX_JOB_LINES: usize = 1_000;

/// A job line may be this long at most, in bytes without its newline: fio reads a job
/// file a buffer at a time (8 KiB since fio 3.15, 4 KiB before, less its NUL), and
/// would read a longer line as two lines, the second one unchecked.
pub const MAX_LINE_BYTES: usize = 4_095;

/// Section (job) names and `name=`/`wait_for=` values: at most this many characters of
/// `A-Z a-z 0-9 - _ . :`.
pub const MAX_NAME_CHARS: usize = 64;

/// How much of a key or value an error message quotes (characters, escaped).
const QUOTE_CHARS: usize = 64;

/// The fio options a scenario's job may use (lower case, sorted; fio's aliases listed as
/// names of their own): each shapes IO on the device given on fio's command line, and
/// names no file, program, library, cgroup, scheduler, CPU/NUMA placement, or host
/// resource. Some take only some values: `ioengine` ([`ALLOWED_IOENGINES`]), `mem` and
/// `iomem` (`malloc`), `verify` ([`ALLOWED_VERIFY`]), `zonemode` (`none`, `strided`),
/// `verify_state_save` (`0`), `verify_pattern` and `buffer_pattern` (no `'` or `/`: fio
/// reads a file named in single quotes), `name` and `wait_for` (a plain job name).
/// Engine options are those of the allowed engines (io_uring, libaio, pvsync2).
pub const ALLOWED_OPTIONS: &[&str] = &[
    "allrandrepeat",
    "atomic",
    "ba",
    "blockalign",
    "blocksize",
    "blocksize_range",
    "blocksize_unaligned",
    "bs",
    "bs_is_seq_rand",
    "bs_unaligned",
    "bsrange",
    "bssplit",
    "buffer_compress_chunk",
    "buffer_compress_percentage",
    "buffer_pattern",
    "buffered",
    "clat_percentiles",
    "continue_on_error",
    "dedupe_global",
    "dedupe_mode",
    "dedupe_percentage",
    "dedupe_working_set_percentage",
    "description",
    "direct",
    "disable_bw",
    "disable_bw_measurement",
    "disable_clat",
    "disable_lat",
    "disable_slat",
    "disk_util",
    "do_verify",
    "end_fsync",
    "error_dump",
    "exit_what",
    "exitall",
    "exitall_on_error",
    "experimental_verify",
    "fadvise_hint",
    "fdatasync",
    "fileoffset",
    "fill_device",
    "fill_fs",
    "fixedbufs",
    "flow",
    "flow_id",
    "flow_sleep",
    "flow_watermark",
    "force_async",
    "fsync",
    "fsync_on_close",
    "group_reporting",
    "gtod_reduce",
    "hipri",
    "hipri_percentage",
    "ignore_error",
    "invalidate",
    "io_limit",
    "io_size",
    "io_submit_mode",
    "iodepth",
    "iodepth_batch",
    "iodepth_batch_complete",
    "iodepth_batch_complete_max",
    "iodepth_batch_complete_min",
    "iodepth_batch_submit",
    "iodepth_low",
    "ioengine",
    "iomem",
    "iomem_align",
    "kb_base",
    "lat_percentiles",
    "latency_percentile",
    "latency_run",
    "latency_target",
    "latency_window",
    "libaio_vectored",
    "loops",
    "max_latency",
    "mem",
    "mem_align",
    "name",
    "new_group",
    "nonvectored",
    "norandommap",
    "nowait",
    "num_range",
    "number_ios",
    "numjobs",
    "offset",
    "offset_align",
    "offset_increment",
    "overwrite",
    "percentage_random",
    "percentage_sequential",
    "percentile_list",
    "ramp_size",
    "ramp_time",
    "random_distribution",
    "random_generator",
    "randrepeat",
    "randseed",
    "rate",
    "rate_cycle",
    "rate_ignore_thinktime",
    "rate_iops",
    "rate_iops_min",
    "rate_min",
    "rate_process",
    "ratecycle",
    "ratemin",
    "readwrite",
    "refill_buffers",
    "registerfiles",
    "runtime",
    "rw",
    "rw_sequencer",
    "rwmixcycle",
    "rwmixread",
    "rwmixwrite",
    "scramble_buffers",
    "serialize_overlap",
    "significant_figures",
    "size",
    "slat_percentiles",
    "softrandommap",
    "sqthread_poll",
    "ss",
    "ss_dur",
    "ss_interval",
    "ss_ramp",
    "startdelay",
    "stats",
    "steadystate",
    "steadystate_check_interval",
    "steadystate_duration",
    "steadystate_ramp_time",
    "stonewall",
    "sync",
    "sync_file_range",
    "thinkcycles",
    "thinktime",
    "thinktime_blocks",
    "thinktime_blocks_type",
    "thinktime_iotime",
    "thinktime_spin",
    "thread",
    "time_based",
    "timeout",
    "trim_backlog",
    "trim_backlog_batch",
    "trim_percentage",
    "trim_verify_zero",
    "uncached",
    "unified_rw_reporting",
    "unit_base",
    "userspace_reap",
    "verify",
    "verify_async",
    "verify_backlog",
    "verify_backlog_batch",
    "verify_fatal",
    "verify_header_seed",
    "verify_interval",
    "verify_offset",
    "verify_only",
    "verify_pattern",
    "verify_pattern_interval",
    "verify_state_save",
    "verify_write_sequence",
    "wait_for",
    "wait_for_previous",
    "write_barrier",
    "write_hint",
    "zero_buffers",
    "zonemode",
    "zonerange",
    "zonesize",
    "zoneskip",
];

/// `ioengine` values allowed: engines that do IO on the file fio is given (or none,
/// `null`). Every other engine runs a program (`exec`), loads a library (`external:`,
/// or a name fio does not know, which it dlopens), works on files or directories
/// (`filecreate`, `filestat`, `dircreate`, ...), or talks to the network or a GPU.
pub const ALLOWED_IOENGINES: &[&str] = &[
    "io_uring", "libaio", "null", "posixaio", "psync", "pvsync", "pvsync2", "sync", "vsync",
];

/// `verify` values allowed: fio's in-band checks, all of them (the checksum or pattern
/// is written in the data itself).
pub const ALLOWED_VERIFY: &[&str] = &[
    "0",
    "crc16",
    "crc32",
    "crc32c",
    "crc32c-intel",
    "crc64",
    "crc7",
    "md5",
    "meta",
    "null",
    "pattern",
    "pattern_hdr",
    "sha1",
    "sha256",
    "sha3-224",
    "sha3-256",
    "sha3-384",
    "sha3-512",
    "sha512",
    "xxhash",
];

/// A problem in a fio job's text, at a 1-based line of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobTextError {
    /// 1-based line in the job text (0: the text as a whole).
    pub line: usize,
    /// What is wrong: one line, quoting at most an option's name and (for `ioengine`,
    /// `mem`/`iomem`, `verify` and the like) its value, shortened and escaped; never the
    /// job's line, which may come from a file the scenario's author pointed at.
    pub message: String,
}

/// Check a scenario's fio job (or the exact job thinbench writes, before fio starts):
/// at most [`MAX_JOB_BYTES`], [`MAX_JOB_LINES`] lines of [`MAX_LINE_BYTES`]; no control
/// character but tab (and a CR before a newline); no `$` anywhere (fio expands
/// `${VAR}` and `$ncpus`-style keywords, then runs `bc`); no `include`; sections named
/// plainly (see [`MAX_NAME_CHARS`]), at least one besides `[global]`; every option in
/// [`ALLOWED_OPTIONS`], with its value where that is restricted. The error names the
/// line (1-based; 0 for the text as a whole) and the option, and says why.
pub fn check_job_text(text: &str) -> Result<(), JobTextError> {
    let whole = |message: String| Err(JobTextError { line: 0, message });
    if text.len() > MAX_JOB_BYTES {
        return whole(format!(
            "the fio job is {} bytes, over the limit of {MAX_JOB_BYTES} (64 KiB)",
            text.len()
        ));
    }
    let lines = text.lines().count();
    if lines > MAX_JOB_LINES {
        return whole(format!(
            "the fio job has {lines} lines, over the limit of {MAX_JOB_LINES}"
        ));
    }
    let mut state = State::default();
    for (i, raw) in text.lines().enumerate() {
        check_line(raw, &mut state).map_err(|message| JobTextError {
            line: i + 1,
            message,
        })?;
    }
    if state.jobs == 0 {
        return whole("the fio job has no job section (only [global] or nothing)".into());
    }
    Ok(())
}

#[derive(Default)]
struct State {
    in_section: bool,
    jobs: usize,
}

/// fio's blanks: space, tab, and the CR of a CRLF line end (other control characters
/// are refused before).
fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\r'
}

/// What fio makes of a line: up to the first `;` or `#`, without blanks around.
fn effective(raw: &str) -> &str {
    let end = raw.find([';', '#']).unwrap_or(raw.len());
    raw[..end].trim_matches(is_blank)
}

/// An option line's key, as fio splits it (before the first `=`, blanks trimmed).
fn key_of(line: &str) -> &str {
    line.split('=').next().unwrap_or("").trim_matches(is_blank)
}

fn check_line(raw: &str, state: &mut State) -> Result<(), String> {
    if raw.len() > MAX_LINE_BYTES {
        return Err(format!(
            "the line is {} bytes, over the limit of {MAX_LINE_BYTES}: fio would read it \
             as more than one line",
            raw.len()
        ));
    }
    // A CR ends a line of a CRLF file; anywhere else it is a control character.
    let body = raw.strip_suffix('\r').unwrap_or(raw);
    if let Some((col, c)) = body
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && *c != '\t')
    {
        return Err(format!(
            "control character {} at column {} is not allowed in a fio job",
            c.escape_unicode(),
            col + 1
        ));
    }
    let line = effective(body);
    if body.contains('$') {
        let what = if line.is_empty() || line.starts_with('[') {
            "`$` is not allowed anywhere in a fio job, comments and section names included"
                .to_owned()
        } else {
            format!(
                "option {}: `$` is not allowed in a fio job",
                quoted(key_of(line))
            )
        };
        return Err(format!(
            "{what}: fio replaces `${{VAR}}` with the environment's VAR, and `$pagesize`, \
             `$mb_memory`, `$ncpus` with the host's figures (then runs bc on the value)"
        ));
    }
    if line.is_empty() {
        return Ok(());
    }
    if let Some(rest) = line.strip_prefix('[') {
        let Some(name) = rest.strip_suffix(']') else {
            return Err("a section header has no closing `]` (`[name]`)".into());
        };
        check_section_name(name)?;
        state.in_section = true;
        if name != "global" {
            state.jobs += 1;
        }
        return Ok(());
    }
    let key = key_of(line);
    let lower = key.to_ascii_lowercase();
    if lower.starts_with("include") {
        return Err("`include` is not allowed: put the whole job in the text".into());
    }
    if !state.in_section {
        return Err(format!("option {} comes before any [section]", quoted(key)));
    }
    if key.is_empty() {
        return Err("a line with `=` but no option name before it".into());
    }
    if ALLOWED_OPTIONS.binary_search(&lower.as_str()).is_err() {
        return Err(match refusal_reason(&lower) {
            Some(why) => format!("option {} is not allowed: {why}", quoted(key)),
            None => format!(
                "option {} is not allowed: a scenario's fio job may use only options that \
                 shape IO on the step's thin device (given on fio's command line), none \
                 that names a file, program, library, cgroup, scheduler, CPU/NUMA \
                 placement or host resource; allowed: {}",
                quoted(key),
                ALLOWED_OPTIONS.join(", ")
            ),
        });
    }
    // fio takes the value as it is after the `=` (it trims only the end of the line).
    let value = line.find('=').map(|i| &line[i + 1..]);
    check_value(key, &lower, value)
}

fn check_section_name(name: &str) -> Result<(), String> {
    if name != "global" && name.starts_with("global") {
        return Err(format!(
            "section [{}]: fio takes every section whose name starts with `global` for \
             [global]; name the job otherwise",
            shown(name)
        ));
    }
    check_plain_name(name).map_err(|why| format!("section [{}]: {why}", shown(name)))
}

/// A job name: `[name]`, `name=`, `wait_for=`.
fn check_plain_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "the name is longer than {MAX_NAME_CHARS} characters"
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    {
        return Err("a job name may have only letters, digits, `-`, `_`, `.` and `:`".into());
    }
    Ok(())
}

/// Values of the options whose values matter.
fn check_value(key: &str, lower: &str, value: Option<&str>) -> Result<(), String> {
    let one_of = |allowed: &[&str], why: &str| -> Result<(), String> {
        match value {
            Some(v) if allowed.contains(&v) => Ok(()),
            Some(v) => Err(format!(
                "option {} = {} is not allowed: one of {} (exactly, with no blank after \
                 `=`); {why}",
                quoted(key),
                quoted(v),
                allowed.join(", ")
            )),
            None => Err(format!(
                "option {} needs a value: one of {}",
                quoted(key),
                allowed.join(", ")
            )),
        }
    };
    match lower {
        "ioengine" => one_of(
            ALLOWED_IOENGINES,
            "other engines run programs (exec), load libraries (external:, or a name fio \
             does not know, which it dlopens) or work on files",
        ),
        "mem" | "iomem" => one_of(
            &["malloc"],
            "the others map files or shared or huge-page memory of the host",
        ),
        "verify" => one_of(ALLOWED_VERIFY, "fio has no other in-band verify kinds"),
        "zonemode" => one_of(
            &["none", "strided"],
            "`zbd` manages the zones of a zoned device",
        ),
        "verify_state_save" => one_of(
            &["0"],
            "fio saves verify state to files on the host by default; it may only be \
             turned off",
        ),
        "verify_pattern" | "buffer_pattern" => match value {
            Some(v) if v.contains(['\'', '/']) => Err(format!(
                "option {}: a pattern may not contain `'` or `/`: fio reads the file named \
                 in single quotes (give hex, a number or a \"string\")",
                quoted(key)
            )),
            _ => Ok(()),
        },
        "name" | "wait_for" => match value {
            Some(v) => check_plain_name(v).map_err(|why| format!("option {}: {why}", quoted(key))),
            None => Err(format!("option {} needs a job name", quoted(key))),
        },
        _ => Ok(()),
    }
}

/// Why a known option is refused, for options outside [`ALLOWED_OPTIONS`] that do
/// something thinbench must not let a scenario do (others get the allowed list).
fn refusal_reason(key: &str) -> Option<&'static str> {
    const FILE: &str = "it names, creates or removes files (thinbench gives fio the \
                        step's thin device on its command line)";
    const PROGRAM: &str = "it runs a program on the host";
    const LOG: &str = "it writes a log file on the host";
    const READS: &str = "it reads a file of the host (an IO log, trace or state)";
    const CGROUP: &str = "it moves the process into a cgroup";
    const CPU: &str = "it places fio on CPUs or NUMA nodes of the host";
    const PRIO: &str = "it changes the scheduling or IO priority of the process";
    let why = match key {
        "filename" | "filename_format" | "directory" | "opendir" | "lockfile" | "nrfiles"
        | "nr_files" | "openfiles" | "filesize" | "file_service_type" | "unique_filename"
        | "file_append" | "allow_file_create" | "pre_read" | "fallocate" | "end_syncfs"
        | "filetype" => FILE,
        "exec_prerun" | "exec_postrun" | "program" | "arguments" | "grace_time"
        | "std_redirect" => PROGRAM,
        "per_job_logs" | "write_iolog" => LOG,
        "read_iolog" | "read_iolog_chunked" | "verify_state_load" => READS,
        "verify_dump" => "it writes the data of a failed verify to files on the host",
        "ioscheduler" => "it changes the host device's IO scheduler",
        "nice" | "prio" | "prioclass" | "priohint" => PRIO,
        "cpumask" | "gtod_cpu" => CPU,
        "uid" | "gid" => "it changes the user or group of the process",
        "lockmem" | "hugepage-size" => "it locks or reserves host memory",
        "profile" => "it runs a built-in fio profile, which takes device names",
        "allow_mounted_write" => "it lets fio write to a mounted device",
        "create_serialize" | "create_fsync" | "create_on_open" | "create_only" => FILE,
        _ => "",
    };
    if !why.is_empty() {
        return Some(why);
    }
    let starts = |p: &str| key.starts_with(p);
    Some(
        if starts("filename") || starts("create_") || starts("unlink") {
            FILE
        } else if starts("exec") || starts("trigger") {
            PROGRAM
        } else if starts("log_") || (starts("write_") && key.ends_with("_log")) {
            LOG
        } else if key.contains("iolog") || starts("replay_") || starts("merge_blktrace") {
            READS
        } else if starts("cgroup") {
            CGROUP
        } else if starts("cpus")
            || starts("numa_")
            || key.ends_with("_cpu")
            || key.ends_with("_cpus")
        {
            CPU
        } else if starts("cmdprio") || starts("prio") {
            PRIO
        } else {
            return None;
        },
    )
}

/// `text` in backticks, escaped and shortened for an error message.
fn quoted(text: &str) -> String {
    format!("`{}`", shown(text))
}

/// At most [`QUOTE_CHARS`] characters of `text`, printable ASCII as it is and every other
/// character (controls, non-ASCII, backticks) escaped as `\u{..}`: one line that cannot
/// reorder or hide what a terminal shows.
fn shown(text: &str) -> String {
    let mut s = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == QUOTE_CHARS {
            s.push_str("...");
            break;
        }
        if (c.is_ascii_graphic() && c != '`') || c == ' ' {
            s.push(c);
        } else {
            let _ = write!(s, "{}", c.escape_unicode());
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `line` as line 3 of a job that is otherwise fine.
    fn at_line_3(line: &str) -> Result<(), JobTextError> {
        check_job_text(&format!("[global]\ndirect=1\n{line}\n[j]\nrw=randwrite\n"))
    }

    fn assert_one_clean_line(e: &JobTextError) {
        assert!(
            !e.message.contains('\n') && !e.message.chars().any(char::is_control),
            "{e:?}"
        );
    }

    #[test]
    fn the_allowlist_is_sorted_lowercase_and_unique() {
        for w in ALLOWED_OPTIONS.windows(2) {
            assert!(w[0] < w[1], "{} then {}", w[0], w[1]);
        }
        for o in ALLOWED_OPTIONS {
            assert!(
                o.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{o}"
            );
            assert!(refusal_reason(o).is_none(), "{o} is allowed and refused");
        }
    }

    #[test]
    fn dangerous_options_are_refused_with_their_line_name_and_reason() {
        // (line, what the message names, why)
        let table: &[(&str, &str, &str)] = &[
            (
                "write_bw_log=/tmp/pwned-bwlog",
                "`write_bw_log`",
                "writes a log file",
            ),
            (
                "write_lat_log=/tmp/x",
                "`write_lat_log`",
                "writes a log file",
            ),
            (
                "write_iops_log=/tmp/x",
                "`write_iops_log`",
                "writes a log file",
            ),
            (
                "write_hist_log=/tmp/x",
                "`write_hist_log`",
                "writes a log file",
            ),
            ("write_iolog=/tmp/x", "`write_iolog`", "writes a log file"),
            ("per_job_logs=1", "`per_job_logs`", "writes a log file"),
            ("log_avg_msec=1000", "`log_avg_msec`", "writes a log file"),
            ("log_offset=1", "`log_offset`", "writes a log file"),
            ("read_iolog=/tmp/x", "`read_iolog`", "reads a file"),
            (
                "replay_redirect=/dev/sda",
                "`replay_redirect`",
                "reads a file",
            ),
            ("replay_no_stall=1", "`replay_no_stall`", "reads a file"),
            (
                "merge_blktrace_file=/tmp/m",
                "`merge_blktrace_file`",
                "reads a file",
            ),
            ("verify_state_load=1", "`verify_state_load`", "reads a file"),
            ("ioengine=exec", "`ioengine` = `exec`", "run programs"),
            (
                "ioengine=external:/tmp/x.so",
                "`ioengine`",
                "load libraries",
            ),
            ("ioengine=/tmp/x.so", "`ioengine`", "dlopens"),
            ("ioengine=filecreate", "`ioengine`", "work on files"),
            ("ioengine=mmap", "`ioengine`", "one of io_uring"),
            ("ioengine = io_uring", "`ioengine`", "no blank after"),
            ("ioengine", "`ioengine` needs a value", "io_uring"),
            ("program=/bin/sh", "`program`", "runs a program"),
            ("arguments=-c id", "`arguments`", "runs a program"),
            (
                "exec_prerun=touch /tmp/x",
                "`exec_prerun`",
                "runs a program",
            ),
            (
                "exec_postrun=touch /tmp/x",
                "`exec_postrun`",
                "runs a program",
            ),
            ("trigger=reboot", "`trigger`", "runs a program"),
            ("cgroup=evil", "`cgroup`", "cgroup"),
            ("cgroup_weight=100", "`cgroup_weight`", "cgroup"),
            ("cgroup_nodelete=1", "`cgroup_nodelete`", "cgroup"),
            ("ioscheduler=none", "`ioscheduler`", "IO scheduler"),
            (
                "filename=/dev/sda",
                "`filename`",
                "names, creates or removes files",
            ),
            ("FileName=/dev/sda", "`FileName`", "files"),
            ("filename = /dev/sda", "`filename`", "files"),
            ("filename_format=x", "`filename_format`", "files"),
            ("directory=/tmp", "`directory`", "files"),
            ("opendir=/etc", "`opendir`", "files"),
            ("lockfile=exclusive", "`lockfile`", "files"),
            ("nrfiles=2", "`nrfiles`", "files"),
            ("filesize=1m", "`filesize`", "files"),
            ("file_service_type=random", "`file_service_type`", "files"),
            ("unique_filename=1", "`unique_filename`", "files"),
            ("create_on_open=1", "`create_on_open`", "files"),
            ("create_only=1", "`create_only`", "files"),
            ("unlink=1", "`unlink`", "files"),
            ("unlink_each_loop=1", "`unlink_each_loop`", "files"),
            ("pre_read=1", "`pre_read`", "files"),
            ("fallocate=posix", "`fallocate`", "files"),
            ("cpus_allowed=0", "`cpus_allowed`", "CPUs or NUMA"),
            (
                "cpus_allowed_policy=split",
                "`cpus_allowed_policy`",
                "CPUs or NUMA",
            ),
            ("cpumask=1", "`cpumask`", "CPUs or NUMA"),
            ("numa_cpu_nodes=0", "`numa_cpu_nodes`", "CPUs or NUMA"),
            (
                "numa_mem_policy=bind:0",
                "`numa_mem_policy`",
                "CPUs or NUMA",
            ),
            ("sqthread_poll_cpu=0", "`sqthread_poll_cpu`", "CPUs or NUMA"),
            ("verify_async_cpus=0", "`verify_async_cpus`", "CPUs or NUMA"),
            ("gtod_cpu=0", "`gtod_cpu`", "CPUs or NUMA"),
            ("nice=-20", "`nice`", "priority"),
            ("prio=0", "`prio`", "priority"),
            ("prioclass=1", "`prioclass`", "priority"),
            ("cmdprio_percentage=50", "`cmdprio_percentage`", "priority"),
            ("uid=0", "`uid`", "user or group"),
            ("gid=0", "`gid`", "user or group"),
            ("lockmem=1g", "`lockmem`", "host memory"),
            ("hugepage-size=2m", "`hugepage-size`", "host memory"),
            (
                "mem=mmaphuge:/hugetlbfs/x",
                "`mem` = `mmaphuge:/hugetlbfs/x`",
                "map files",
            ),
            ("iomem=mmapshared", "`iomem` = `mmapshared`", "malloc"),
            ("mem=shm", "`mem`", "malloc"),
            (
                "allow_mounted_write=1",
                "`allow_mounted_write`",
                "mounted device",
            ),
            ("profile=act", "`profile`", "device names"),
            ("verify_dump=1", "`verify_dump`", "files on the host"),
            (
                "verify_state_save=1",
                "`verify_state_save` = `1`",
                "turned off",
            ),
            ("verify=sha1junk", "`verify` = `sha1junk`", "crc32c"),
            (
                "verify_pattern='/etc/shadow'",
                "`verify_pattern`",
                "single quotes",
            ),
            (
                "buffer_pattern='secret'",
                "`buffer_pattern`",
                "single quotes",
            ),
            ("zonemode=zbd", "`zonemode` = `zbd`", "zoned"),
            ("name=../x", "`name`", "only letters"),
            ("wait_for", "`wait_for` needs a job name", ""),
        ];
        for (line, names, why) in table {
            let e = at_line_3(line).expect_err(line);
            assert_eq!(e.line, 3, "{line}: {e:?}");
            assert!(e.message.contains(names), "{line}: {e:?}");
            assert!(e.message.contains(why), "{line}: {e:?}");
            assert_one_clean_line(&e);
        }
    }

    #[test]
    fn dollar_is_refused_anywhere() {
        for (job, line, names) in [
            ("[j]\nbs=${HOME}\n", 2, Some("`bs`")),
            ("[j]\nsize=$mb_memory\n", 2, Some("`size`")),
            ("[j]\nnumjobs=$ncpus*2\n", 2, Some("`numjobs`")),
            ("[j]\nbs=4k ; costs $5\n", 2, Some("`bs`")),
            ("; ${HOME}\n[j]\n", 1, None),
            ("[j$x]\n", 1, None),
            ("[j]\ndescription=x${PATH}\n", 2, Some("`description`")),
        ] {
            let e = check_job_text(job).expect_err(job);
            assert_eq!(e.line, line, "{job}: {e:?}");
            assert!(e.message.contains("`${VAR}`"), "{job}: {e:?}");
            if let Some(n) = names {
                assert!(e.message.contains(n), "{job}: {e:?}");
            }
            assert!(
                !e.message.contains("HOME") && !e.message.contains("$5"),
                "{e:?}"
            );
            assert_one_clean_line(&e);
        }
    }

    #[test]
    fn include_is_refused_in_any_form() {
        for line in [
            "include x.fio",
            "include=x",
            "  include /etc/passwd",
            "INCLUDE x",
            "includes",
        ] {
            let e = at_line_3(line).expect_err(line);
            assert_eq!(e.line, 3, "{line}");
            assert!(e.message.contains("`include`"), "{line}: {e:?}");
            assert!(!e.message.contains("passwd"), "{e:?}");
        }
    }

    #[test]
    fn an_unknown_option_is_refused_with_the_allowed_list() {
        let e = check_job_text("[j]\nrw=read\n\nfoo_bar=1\n").unwrap_err();
        assert_eq!(e.line, 4);
        assert!(
            e.message.contains("option `foo_bar` is not allowed"),
            "{e:?}"
        );
        let list = ALLOWED_OPTIONS.join(", ");
        assert!(e.message.ends_with(&format!("allowed: {list}")), "{e:?}");
        assert!(
            e.message.contains("allowed: allrandrepeat, atomic, ba,"),
            "{e:?}"
        );
        assert_one_clean_line(&e);
    }

    #[test]
    fn messages_quote_only_a_short_escaped_key_or_value() {
        let secret = "/root/.ssh/id_ed25519-and-a-long-tail-of-text-that-goes-on-and-on";
        let e = at_line_3(&format!("filename={secret}")).unwrap_err();
        assert!(!e.message.contains("/root"), "{e:?}");
        let e = at_line_3(&format!("ioengine=external:{secret}{secret}")).unwrap_err();
        assert!(e.message.contains("..."), "{e:?}");
        assert!(!e.message.contains(&secret[..secret.len() - 1]), "{e:?}");
        let e = at_line_3(&format!("x{}=1", "k".repeat(500))).unwrap_err();
        assert!(
            e.message.len() < 1_000 + ALLOWED_OPTIONS.join(", ").len(),
            "{e:?}"
        );
        let e = at_line_3("ioengine=\u{202e}gnp.exe").unwrap_err();
        assert!(e.message.contains("\\u{202e}"), "{e:?}");
        let e = at_line_3("bs=4k\u{1b}[2J").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.message.contains("\\u{1b}") && e.message.contains("column 6"),
            "{e:?}"
        );
        assert_one_clean_line(&e);
        let e = check_job_text("direct=1 ; before any section\n[j]\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(
            e.message.contains("`direct`") && !e.message.contains("; before"),
            "{e:?}"
        );
        let e = at_line_3("filename=/dev/sda\0").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("\\u{0}"), "{e:?}");
    }

    #[test]
    fn size_limits_are_said() {
        let long = format!("[j]\ndescription={}\n", "a".repeat(MAX_LINE_BYTES));
        let e = check_job_text(&long).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("over the limit of 4095"), "{e:?}");
        let just = format!("[j]\ndescription={}\n", "a".repeat(MAX_LINE_BYTES - 12));
        check_job_text(&just).unwrap();
        let many = format!("[j]\n{}", "; comment\n".repeat(MAX_JOB_LINES));
        let e = check_job_text(&many).unwrap_err();
        assert_eq!(e.line, 0);
        assert!(
            e.message.contains("1001 lines, over the limit of 1000"),
            "{e:?}"
        );
        let big = format!("[j]\n{}", format!("; {}\n", "c".repeat(98)).repeat(700));
        let e = check_job_text(&big).unwrap_err();
        assert_eq!(e.line, 0);
        assert!(
            e.message.contains("over the limit of 65536 (64 KiB)"),
            "{e:?}"
        );
    }

    #[test]
    fn section_names_are_plain() {
        for (job, says) in [
            ("[a/b]\n", "only letters"),
            ("[j k]\n", "only letters"),
            ("[]\n", "empty"),
            ("[globalx]\n[j]\n", "starts with `global`"),
            (&format!("[{}]\n", "n".repeat(65)) as &str, "longer than 64"),
            ("[j\n", "no closing"),
            ("[j]x\n", "no closing"),
        ] {
            let e = check_job_text(job).expect_err(job);
            assert_eq!(e.line, 1, "{job}");
            assert!(e.message.contains(says), "{job}: {e:?}");
        }
        check_job_text("[global]\n[Job-1.a:b_c] ; the job\n").unwrap();
        let e = check_job_text("[global]\n  # nothing\n").unwrap_err();
        assert_eq!(e.line, 0);
    }

    #[test]
    fn safe_jobs_pass() {
        for engine in ALLOWED_IOENGINES {
            check_job_text(&format!("[j]\nioengine={engine}\n")).unwrap();
        }
        for kind in ALLOWED_VERIFY {
            check_job_text(&format!("[j]\nverify={kind}\n")).unwrap();
        }
        let job = "; a comment\r\n# another\r\n[global]\r\nioengine=io_uring ; the fast one\r\n\
                   direct=1\r\n\t iodepth = 32\r\ntime_based\r\nruntime=10s\r\n\
                   [w]\r\nname=writer\r\nrw=randrw:4\r\nrwmixread=70\r\n\
                   bssplit=4k/50:64k/50\r\nrandom_distribution=zoned:50/5:50/95\r\n\
                   verify=crc32c\r\nverify_pattern=0xdeadbeef\r\nverify_state_save=0\r\n\
                   buffer_pattern=\"abc\"\r\nmem=malloc\r\npercentile_list=50:99:99.9\r\n\
                   ignore_error=EIO,ENOSPC\r\ndescription=Kitchen sink, 70% reads (ok)\r\n\
                   [r]\nwait_for=w\nrw=read\nhipri\nfixedbufs=1\nsqthread_poll=1\nstonewall\n";
        check_job_text(job).unwrap();
    }
}

//! The hostile-input corpus (tracker issue 22, docs/security.md): every command that
//! reads files, fed what an attacker would write, through the binary. Each case must end
//! with exit 2 and a clear message, within 2 s, under 100 MiB of peak RSS; print nothing
//! of a canary file outside the scenario's directory nor of the environment; and create
//! or change no file outside its results directory.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::fs::symlink;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_thinbench");
/// In the canary file outside the scenario directory, and in the environment.
const CANARY: &str = "CANARY-5f1c-do-not-print";
const SECRET_ENV: &str = "hunter2-SECRET-TOKEN-f00d";
const MAX_SECS: f64 = 2.0;
const MAX_RSS_KIB: i64 = 100 * 1024;

struct Ran {
    code: Option<i32>,
    output: String,
    secs: f64,
    max_rss_kib: i64,
}

/// Run thinbench with `args`, measuring wall time and peak RSS (wait4), with an address
/// space limit so that a regression fails this test instead of the machine; killed
/// after 20 s.
fn thinbench(args: &[OsString], cwd: &Path) -> Ran {
    let t = Instant::now();
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(cwd)
        .env("SECRET_TOKEN", SECRET_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe setrlimit between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 2 << 30,
                rlim_max: 2 << 30,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    // Reaped below with wait4, which also gives its peak RSS.
    #[allow(clippy::zombie_processes)]
    let mut child = cmd.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = r.by_ref().take(8 << 20).read_to_end(&mut b);
            String::from_utf8_lossy(&b).into_owned()
        })
    };
    let so = drain(Box::new(child.stdout.take().unwrap()));
    let se = drain(Box::new(child.stderr.take().unwrap()));
    let mut status = 0;
    // SAFETY: rusage is plain data, zeroed is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid out pointers; pid is our child, not yet reaped.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
        if r == pid {
            break;
        }
        if t.elapsed() > Duration::from_secs(20) {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let secs = t.elapsed().as_secs_f64();
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Ran {
        code,
        output: format!("{}{}", so.join().unwrap(), se.join().unwrap()),
        secs,
        max_rss_kib: ru.ru_maxrss,
    }
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// Every file under `dir` with its length and mtime: what "nothing changed" compares.
fn snapshot(dir: &Path, out: &mut Vec<(PathBuf, u64, std::time::SystemTime)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let m = e.path().symlink_metadata().unwrap();
        if m.is_dir() {
            snapshot(&e.path(), out);
        }
        out.push((e.path(), m.len(), m.modified().unwrap()));
    }
}

const HEAD: &str = "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
[[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"1GiB\"\n";

fn fio_step(key_value: &str) -> String {
    format!("{HEAD}[[step]]\naction = \"io\"\nthin = \"t\"\nengine = \"fio\"\n{key_value}\n")
}

/// The corpus: (name, command line, what the message must say). The scenario files are
/// written into `scen/`, the canary lives in `secret/` beside it.
fn corpus(root: &Path) -> Vec<(String, Vec<OsString>, &'static str)> {
    let scen = root.join("scen");
    let write = |name: &str, text: &str| -> OsString {
        let p = scen.join(name);
        std::fs::write(&p, text).unwrap();
        p.into_os_string()
    };
    let mut v: Vec<(String, Vec<OsString>, &'static str)> = Vec::new();
    let validate = |f: OsString| vec![OsString::from("validate"), f];
    // job_file: reading files outside, kernel files, specials, huge, a symlink out.
    for (name, job_file, says) in [
        ("job-shadow", "../../etc/shadow", "`..` component"),
        (
            "job-canary-dotdot",
            "../secret/canary.txt",
            "`..` component",
        ),
        ("job-absolute", "/etc/shadow", "is absolute"),
        ("job-environ", "/proc/self/environ", "is absolute"),
        ("job-symlink-out", "link-out.fio", "through a symlink"),
        (
            "job-symlink-environ",
            "link-environ.fio",
            "through a symlink",
        ),
        ("job-fifo", "fifo", "a FIFO"),
        ("job-1gib", "big.fio", "over the limit"),
        ("job-dir", "subdir", "a directory"),
    ] {
        let f = write(
            &format!("{name}.toml"),
            &fio_step(&format!("job_file = \"{job_file}\"")),
        );
        v.push((name.into(), validate(f.clone()), says));
        // `run` validates first, before anything (root, VM) is looked at.
        v.push((format!("run-{name}"), vec!["run".into(), f], says));
    }
    // fio options that write host files, run programs, load libraries, expand the
    // environment: refused whatever their place in the job.
    for (name, job) in [
        (
            "fio-bw-log",
            "[j]\\nrw=write\\nwrite_bw_log=/tmp/pwned-bwlog\\n",
        ),
        ("fio-lat-log", "[j]\\nwrite_lat_log=/tmp/pwned-lat\\n"),
        ("fio-iops-log", "[j]\\nwrite_iops_log=/tmp/pwned-iops\\n"),
        ("fio-hist-log", "[j]\\nwrite_hist_log=/tmp/pwned-hist\\n"),
        ("fio-write-iolog", "[j]\\nwrite_iolog=/tmp/pwned-iolog\\n"),
        ("fio-read-iolog", "[j]\\nread_iolog=/etc/shadow\\n"),
        ("fio-replay-redirect", "[j]\\nreplay_redirect=/dev/sda\\n"),
        (
            "fio-exec",
            "[j]\\nioengine=exec\\nprogram=/bin/sh\\narguments=-c id\\n",
        ),
        ("fio-external", "[j]\\nioengine=external:/tmp/evil.so\\n"),
        ("fio-cgroup", "[j]\\ncgroup=evil\\n"),
        ("fio-ioscheduler", "[j]\\nioscheduler=none\\n"),
        ("fio-env", "[j]\\nbs=${HOME}\\n"),
        ("fio-filename", "[j]\\nfilename=/dev/sda\\n"),
        ("fio-include", "[j]\\ninclude /etc/shadow\\n"),
        (
            "fio-exec-prerun",
            "[j]\\nexec_prerun=touch /tmp/pwned-prerun\\n",
        ),
        ("fio-unknown", "[j]\\nnot_an_option=1\\n"),
    ] {
        let f = write(
            &format!("{name}.toml"),
            &fio_step(&format!("job = \"{job}\"")),
        );
        v.push((name.into(), validate(f), "fio job"));
    }
    // The scenario file itself.
    let fifo = scen.join("scenario-fifo");
    mkfifo(&fifo);
    let huge = scen.join("huge.toml");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let deep = write(
        "deep.toml",
        &format!(
            "format = 1\nx = {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    );
    let long_line = write(
        "long-line.toml",
        &format!("format = 1\n# {}\n", "x".repeat(2 << 20)),
    );
    for (name, f, says) in [
        ("scenario-fifo", fifo.clone().into_os_string(), "a FIFO"),
        (
            "scenario-dev-zero",
            "/dev/zero".into(),
            "a character device",
        ),
        (
            "scenario-1gib",
            huge.clone().into_os_string(),
            "over the limit",
        ),
        (
            "scenario-environ",
            "/proc/self/environ".into(),
            "proc filesystem",
        ),
        ("scenario-dir", scen.clone().into_os_string(), "a directory"),
        ("scenario-deep", deep, "error"),
        ("scenario-long-line", long_line, "over the limit"),
    ] {
        v.push((name.into(), validate(f.clone()), says));
        v.push((format!("plan-{name}"), vec!["plan".into(), f.clone()], says));
        v.push((
            format!("gate-config-{name}"),
            vec![
                "gate".into(),
                "--config".into(),
                f,
                "--baseline".into(),
                root.join("results/good").into(),
                "--candidate".into(),
                root.join("results/good").into(),
                "--out".into(),
                root.join("out/gate").into(),
            ],
            says,
        ));
    }
    // Results of another run: report, compare, gate and merge read them.
    for (name, says) in [
        ("summary-fifo", "a FIFO"),
        ("summary-dev-zero", "a character device"),
        ("summary-environ", "proc filesystem"),
        ("summary-1gib", "over the limit"),
        ("events-environ", "proc filesystem"),
    ] {
        let d = root.join("results").join(name);
        let out = root.join("out").join(name);
        v.push((
            format!("report-{name}"),
            vec![
                "report".into(),
                d.clone().into(),
                "--out".into(),
                out.join("r").into(),
            ],
            says,
        ));
        v.push((
            format!("compare-{name}"),
            vec![
                "compare".into(),
                root.join("results/good").into(),
                d.clone().into(),
                "--out".into(),
                out.join("c").into(),
            ],
            says,
        ));
        if name.starts_with("events") {
            continue; // the gate and the baseline store read summary.json only
        }
        v.push((
            format!("baseline-{name}"),
            vec![
                "baseline".into(),
                "update".into(),
                "--from".into(),
                d.clone().into(),
                "--store".into(),
                out.join("store").into(),
            ],
            says,
        ));
        v.push((
            format!("gate-{name}"),
            vec![
                "gate".into(),
                "--baseline".into(),
                root.join("results/good").into(),
                "--candidate".into(),
                d.into(),
                "--out".into(),
                out.join("g").into(),
            ],
            says,
        ));
    }
    v.push((
        "merge-symlink-out".into(),
        vec![
            "merge".into(),
            root.join("results/symlink-out").into(),
            "--out".into(),
            root.join("out/merged").into(),
        ],
        "a symlink",
    ));
    v
}

fn setup() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let scen = root.join("scen");
    std::fs::create_dir_all(scen.join("subdir")).unwrap();
    std::fs::create_dir_all(root.join("secret")).unwrap();
    std::fs::create_dir_all(root.join("out")).unwrap();
    std::fs::write(root.join("secret/canary.txt"), format!("[j]\n{CANARY}\n")).unwrap();
    symlink("../secret/canary.txt", scen.join("link-out.fio")).unwrap();
    symlink("/proc/self/environ", scen.join("link-environ.fio")).unwrap();
    mkfifo(&scen.join("fifo"));
    std::fs::File::create(scen.join("big.fio"))
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    // A good run (a real one from the VM), and broken copies of it.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/tests/fixtures/smoke");
    let results = root.join("results");
    let good = results.join("good");
    std::fs::create_dir_all(&good).unwrap();
    for f in ["summary.json", "events.jsonl", "samples.csv"] {
        std::fs::copy(fixture.join(f), good.join(f)).unwrap();
    }
    let broken = |name: &str, file: &str, make: &dyn Fn(&Path)| {
        let d = results.join(name);
        std::fs::create_dir_all(&d).unwrap();
        for f in ["summary.json", "events.jsonl", "samples.csv"] {
            if f != file {
                std::fs::copy(good.join(f), d.join(f)).unwrap();
            }
        }
        make(&d.join(file));
    };
    broken("summary-fifo", "summary.json", &|p| mkfifo(p));
    broken("summary-dev-zero", "summary.json", &|p| {
        symlink("/dev/zero", p).unwrap()
    });
    broken("summary-environ", "summary.json", &|p| {
        symlink("/proc/self/environ", p).unwrap()
    });
    broken("summary-1gib", "summary.json", &|p| {
        std::fs::File::create(p).unwrap().set_len(1 << 30).unwrap()
    });
    broken("events-environ", "events.jsonl", &|p| {
        symlink("/proc/self/environ", p).unwrap()
    });
    broken("symlink-out", "console.log", &|p| {
        symlink(root.join("secret/canary.txt"), p).unwrap()
    });
    t
}

#[test]
fn every_command_refuses_hostile_files_quickly_in_bounded_memory_leaking_nothing() {
    let t = setup();
    let root = t.path();
    let cases = corpus(root);
    let mut before = Vec::new();
    snapshot(&root.join("scen"), &mut before);
    snapshot(&root.join("secret"), &mut before);
    snapshot(&root.join("results"), &mut before);
    let mut failures = Vec::new();
    let (mut worst_secs, mut worst_rss) = (0.0f64, 0i64);
    for (name, args, says) in &cases {
        let r = thinbench(args, root);
        worst_secs = worst_secs.max(r.secs);
        worst_rss = worst_rss.max(r.max_rss_kib);
        let first = r
            .output
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(220)
            .collect::<String>();
        eprintln!(
            "{name}: exit {:?}, {:.2}s, {} KiB: {first}",
            r.code, r.secs, r.max_rss_kib
        );
        let mut bad = |why: String| failures.push(format!("{name}: {why}\n{}", r.output));
        if r.code != Some(2) {
            bad(format!("exit {:?}, want 2", r.code));
        }
        if !r.output.contains(says) {
            bad(format!("the message does not say `{says}`"));
        }
        if r.output.contains(CANARY) || r.output.contains(SECRET_ENV) {
            bad("printed the canary or the environment".into());
        }
        if r.output.contains("panicked") {
            bad("panicked".into());
        }
        if r.secs > MAX_SECS {
            bad(format!("took {:.2}s", r.secs));
        }
        if r.max_rss_kib > MAX_RSS_KIB {
            bad(format!("peak RSS {} KiB", r.max_rss_kib));
        }
        // Nothing anywhere under out/ holds the canary either (a merge or report copy).
        let mut outs = Vec::new();
        snapshot(&root.join("out"), &mut outs);
        for (p, _, _) in outs.iter().filter(|(p, _, _)| p.is_file()) {
            if std::fs::read_to_string(p).is_ok_and(|s| s.contains(CANARY)) {
                bad(format!("{} holds the canary", p.display()));
            }
        }
    }
    let mut after = Vec::new();
    snapshot(&root.join("scen"), &mut after);
    snapshot(&root.join("secret"), &mut after);
    snapshot(&root.join("results"), &mut after);
    assert_eq!(
        before, after,
        "an input file was created, removed or changed"
    );
    for p in [
        "/tmp/pwned-bwlog",
        "/tmp/pwned-bwlog_bw.1.log",
        "/tmp/pwned-prerun",
    ] {
        assert!(!Path::new(p).exists(), "{p} was written");
    }
    eprintln!(
        "{} hostile inputs, worst {worst_secs:.2}s and {worst_rss} KiB peak RSS",
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// SIGTERM ends a `validate` blocked anywhere: here in write(2), its stderr a pipe that
/// nobody reads, full of the errors of a scenario with thousands of mistakes. (It used to
/// take SIGTERM as "stop in order" and restart the blocked call: it never ended.)
#[test]
fn sigterm_ends_a_blocked_validate_within_a_second() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("many-errors.toml");
    let mut text = String::from("format = 1\n");
    for i in 0..20_000 {
        text.push_str(&format!(
            "[[pool]]\nname = \"p{i}\"\nkind = \"loop-lvmx\"\n"
        ));
    }
    std::fs::write(&f, text).unwrap();
    let mut child = Command::new(BIN)
        .arg("validate")
        .arg(&f)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Let it fill the pipe and block.
    let pid = child.id() as libc::pid_t;
    let deadline = Instant::now() + Duration::from_secs(10);
    let blocked = loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
        // S (sleeping) in a pipe write, once the output outgrew the pipe.
        if state.split(' ').nth(2) == Some("S") && wchan.contains("pipe") {
            break true;
        }
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            break false;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(blocked, "validate should have blocked writing its errors");
    let t0 = Instant::now();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if t0.elapsed() > Duration::from_secs(5) {
            child.kill().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let secs = t0.elapsed().as_secs_f64();
    eprintln!("SIGTERM to a blocked validate: ended after {secs:.3}s ({status:?})");
    assert!(status.is_some() && secs < 1.0, "validate ignored SIGTERM");
}

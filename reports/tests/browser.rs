//! The HTML report as a person sees it: rendered from a fixture, opened in headless
//! Chromium, screenshotted (kept under `target/report-artifacts/`), and checked in the
//! live DOM: every plot's <svg> is there with a non-zero size, no two of its text labels
//! overlap as the browser lays them out, and the page logged nothing to the console.
//!
//! Ignored for a plain `cargo test` (it needs the Debian package `chromium`); `ci/test`
//! runs it with `--include-ignored` and `THINBENCH_REQUIRE_VM=1`, where a missing
//! Chromium is a failure, not a skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUMS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    CHROMIUMS.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// `target/report-artifacts/<name>`, fresh. The target dir is shared by the workspace.
fn artifacts(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("report-artifacts").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap_or(dir)
}

struct Output {
    stdout: String,
    stderr: String,
}

/// Run headless Chromium on `page` with `extra` flags, in a fresh profile, bounded in time.
fn chromium(bin: &Path, profile: &Path, page: &Path, extra: &[String]) -> Output {
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(format!("file://{}", page.display()))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("starting chromium");
    let out_pipe = child.stdout.take().unwrap();
    let err_pipe = child.stderr.take().unwrap();
    let read = |mut p: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = p.read_to_string(&mut s);
            s
        })
    };
    let out_t = read(Box::new(out_pipe));
    let err_t = read(Box::new(err_pipe));
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Output {
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

/// Console output of the page: Chromium logs it as `INFO:CONSOLE(...)` lines, uncaught
/// exceptions included.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

/// Appended to a copy of the page: measures every plot and records script errors into
/// the DOM, which `--dump-dom` then prints.
const PROBE: &str = r#"<script>
(function () {
  var errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message)); });
  var figs = [];
  document.querySelectorAll('figure.plot').forEach(function (f) {
    var s = f.querySelector('svg');
    var r = s ? s.getBoundingClientRect() : { width: 0, height: 0 };
    // Every pair of non-empty labels whose boxes, as this browser laid the text out,
    // overlap by more than a pixel each way.
    var boxes = [];
    if (s) s.querySelectorAll('text').forEach(function (t) {
      if (t.textContent.trim() === '') return;
      var b = t.getBoundingClientRect();
      boxes.push({ t: t.textContent, l: b.left, r: b.right, u: b.top, d: b.bottom });
    });
    var overlaps = [];
    for (var i = 0; i < boxes.length; i++) for (var j = i + 1; j < boxes.length; j++) {
      var a = boxes[i], c = boxes[j];
      if (Math.min(a.r, c.r) - Math.max(a.l, c.l) > 1 && Math.min(a.d, c.d) - Math.max(a.u, c.u) > 1)
        overlaps.push(a.t + ' x ' + c.t);
    }
    figs.push({ id: f.id, svg: !!s, width: r.width, height: r.height,
                texts: boxes.length, overlaps: overlaps });
  });
  var pre = document.createElement('pre');
  pre.id = 'tb-probe';
  pre.textContent = JSON.stringify({ figures: figs, errors: errors,
                                     height: document.documentElement.scrollHeight });
  document.body.appendChild(pre);
})();
</script>"#;

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[test]
#[ignore = "needs chromium; run by ci/test"]
fn report_renders_in_headless_chromium() {
    let Some(bin) = find_chromium() else {
        if std::env::var("THINBENCH_REQUIRE_VM").as_deref() == Ok("1") {
            panic!("chromium not installed (apt-get install chromium), and THINBENCH_REQUIRE_VM=1");
        }
        println!("skipped: chromium not installed (apt-get install chromium)");
        return;
    };
    let dir = artifacts("browser");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docker-lifecycle");
    let run = thinbench_reports::load_run(&fixture).unwrap();
    let model = thinbench_reports::build_model(&[run]);
    let files = thinbench_reports::write_report(&model, &dir.join("report")).unwrap();
    let html = std::fs::read_to_string(&files.html).unwrap();
    let want_figures = html.matches("<figure class=\"plot\"").count();
    assert_eq!(want_figures, files.pngs.len());
    assert!(want_figures >= 8, "fixture should exercise every plot");

    // 1. Measure in the live DOM. The probe needs script, which the report's CSP
    //    forbids: it runs on a copy without the CSP.
    let probe_page = dir.join("report/probe.html");
    let csp_start = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    let csp_end = csp_start + html[csp_start..].find('>').unwrap() + 1;
    let probed = format!("{}{}", &html[..csp_start], &html[csp_end..])
        .replace("</body>", &format!("{PROBE}</body>"));
    std::fs::write(&probe_page, probed).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = chromium(
        &bin,
        &profile.path().join("probe"),
        &probe_page,
        &["--dump-dom".into(), "--window-size=1280,1000".into()],
    );
    std::fs::write(dir.join("probe-dom.html"), &out.stdout).unwrap();
    std::fs::write(dir.join("probe-stderr.log"), &out.stderr).unwrap();
    let start = out
        .stdout
        .find("<pre id=\"tb-probe\">")
        .unwrap_or_else(|| panic!("probe did not run; stderr:\n{}", out.stderr))
        + "<pre id=\"tb-probe\">".len();
    let end = start + out.stdout[start..].find("</pre>").unwrap();
    let probe: serde_json::Value =
        serde_json::from_str(&unescape(&out.stdout[start..end])).unwrap();
    let figs = probe["figures"].as_array().unwrap();
    assert_eq!(figs.len(), want_figures, "{probe}");
    for f in figs {
        assert_eq!(f["svg"], true, "no <svg> in {f}");
        let (w, h) = (f["width"].as_f64().unwrap(), f["height"].as_f64().unwrap());
        assert!(w > 300.0 && h > 200.0, "plot too small or hidden: {f}");
        assert!(f["texts"].as_u64().unwrap() > 5, "plot without text: {f}");
        assert_eq!(
            f["overlaps"].as_array().map(Vec::len),
            Some(0),
            "labels overlap as the browser draws them: {f}"
        );
    }
    assert_eq!(probe["errors"].as_array().unwrap().len(), 0, "{probe}");
    let probe_console = console_lines(&out.stderr);
    assert!(probe_console.is_empty(), "console: {probe_console:#?}");

    // 2. The real page, as shipped: screenshot it whole, and it must log nothing (it has
    //    no script, so any console line is a CSP violation or a parse problem).
    let height = probe["height"]
        .as_f64()
        .unwrap_or(4000.0)
        .clamp(1000.0, 20000.0) as u32;
    let shot = dir.join("report.png");
    let out = chromium(
        &bin,
        &profile.path().join("shot"),
        &files.html,
        &[
            format!("--screenshot={}", shot.display()),
            format!("--window-size=1280,{height}"),
        ],
    );
    std::fs::write(dir.join("screenshot-stderr.log"), &out.stderr).unwrap();
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot at {}: {e}; stderr:\n{}",
            shot.display(),
            out.stderr
        )
    });
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "implausible screenshot"
    );
    let console = console_lines(&out.stderr);
    assert!(console.is_empty(), "the report logged: {console:#?}");
    println!(
        "browser: {} plots measured; screenshot {} ({} px tall)",
        figs.len(),
        shot.display(),
        height
    );
}

//! The planner at scale: a 1 PiB pool, 100,000 thins, over 10^9 mapped chunks, planned
//! with the extent model; prints time and peak memory (docs/planner.md).
//!
//! `cargo run --release -p thinbench-planner --example scale`

use std::path::Path;
use std::time::Instant;

const PLAN: &str = r#"
format = 1
name = "scale"
[pool]
data_size = "1PiB"
metadata_size = "16GiB"
chunk_size = "64KiB"
autoextend_threshold = 100
[base]
size = "1TiB"
[[base.write]]
bytes = "16MiB"
IMAGES
[timeline]
duration = "10d"
step = "1d"
write_rate = "256MiB/d"
"#;

const IMAGE: &str = r#"
[[image]]
name = "imgN"
containers = 2000
[[image.layer]]
bytes = "512MiB"
[[image.layer]]
bytes = "128MiB"
[[image.container_write]]
bytes = "64MiB"
[[image.container_write]]
target = "image"
pattern = "random"
seed = N
count = 16
[image.churn]
every = "1d"
replace = 100
"#;

fn max_rss_mib() -> f64 {
    let mut ru = std::mem::MaybeUninit::<libc_rusage>::zeroed();
    // SAFETY: getrusage writes a struct rusage into the buffer we own.
    unsafe { getrusage(0, ru.as_mut_ptr()) };
    // SAFETY: initialised by getrusage (or zeroed).
    let ru = unsafe { ru.assume_init() };
    ru.ru_maxrss as f64 / 1024.0
}

#[repr(C)]
struct libc_rusage {
    ru_utime: [i64; 2],
    ru_stime: [i64; 2],
    ru_maxrss: i64,
    _rest: [i64; 13],
}

extern "C" {
    fn getrusage(who: i32, usage: *mut libc_rusage) -> i32;
}

fn main() {
    let images: String = (1..=50)
        .map(|i| {
            IMAGE
                .replace("imgN", &format!("img{i}"))
                .replace("seed = N", &format!("seed = {i}"))
        })
        .collect();
    let text = PLAN.replace("IMAGES", &images);
    let fleet =
        thinbench_planner::load_fleet_str(Path::new("scale.toml"), &text).expect("valid plan");
    let t = Instant::now();
    let r = thinbench_planner::plan(&fleet, false, false).expect("plans");
    let secs = t.elapsed().as_secs_f64();
    let peak_mapped = r
        .timeline
        .iter()
        .map(|x| x.mapped_chunks)
        .max()
        .unwrap_or(0);
    let peak_thins = r.timeline.iter().map(|x| x.thins).max().unwrap_or(0);
    let last = r.timeline.last().expect("rows");
    println!(
        "scale plan: pool {} ({} data blocks of {}), {} timeline steps",
        fleet.pool.data_size.human(),
        r.data_blocks_total,
        fleet.pool.chunk.bytes().human(),
        r.timeline.len()
    );
    println!("  thins (peak)            {peak_thins}");
    println!(
        "  mapped chunks (peak)    {peak_mapped} ({:.2e})",
        peak_mapped as f64
    );
    println!(
        "  data blocks used (end)  {} ({})",
        last.data_used,
        thinbench_schema::units::Bytes(last.data_used * 65536).approx()
    );
    println!("  metadata blocks (end)   {}", last.meta_blocks);
    println!(
        "  model                   {} extents, {} ref-count ranges",
        r.model.extents, r.model.ref_ranges
    );
    println!("  wall time               {secs:.2} s (limit 10 s)");
    println!(
        "  peak RSS                {:.0} MiB (limit 2048 MiB)",
        max_rss_mib()
    );
    assert!(peak_thins >= 100_000 && peak_mapped >= 1_000_000_000);
}

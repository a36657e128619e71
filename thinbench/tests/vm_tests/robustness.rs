//! Killed runs, runs side by side, and a wrong expectation, in one guest.

use std::process::Command;

use super::*;

/// Killed runs leave nothing behind once `thinbench cleanup` has run: `thinbench run` is
/// SIGKILLed at random points (seeded; the seed and each point are printed) in one guest,
/// alternating a two-pool and a direct-lvm scenario, each kill followed by `cleanup` and a
/// count of dm devices, loop devices, VGs and scratch files. A killed run's results are
/// never passed. Then two runs at once must not collide, and a wrong expectation fails a
/// run naming both numbers.
#[test]
#[ignore = "boots a VM (qemu TCG, ~3-4 min); run by ci/test"]
fn vm_robustness_random_kills_concurrency_wrong_expectation() {
    if !vm_available() {
        return;
    }
    // Three kills, alternating the two scenarios (loop-lvm twice, direct-lvm once) at
    // seeded random points: the seed varies per run, so CI covers new points every time.
    const KILLS: usize = 3;
    let seed: u64 = std::env::var("THINBENCH_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        });
    // A kill point is the run's n-th event (0: before the first, while it starts; the
    // runs here log about 30 to 200: set-up, steps, progress every ~100 ms, teardown) plus
    // 0-999 ms: points in the run's own progress, so a slow machine still kills mid-run.
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let points: Vec<(u64, u64)> = (0..KILLS)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) % 60, (x >> 20) % 1000)
        })
        .collect();
    eprintln!(
        "kill test: seed {seed} (THINBENCH_KILL_SEED to replay), points (event, ms) {points:?}"
    );
    let fixtures = repo().join("thinbench/tests/fixtures/vm");
    let scen = |n: usize| {
        fixtures
            .join(if n.is_multiple_of(2) {
                "kill.toml"
            } else {
                "kill-direct.toml"
            })
            .display()
            .to_string()
    };
    let kills: String = points
        .iter()
        .enumerate()
        .map(|(i, (ev, ms))| format!("kill_at {} {ev} 0.{ms:03} {}\n", i + 1, scen(i)))
        .collect();
    let script = format!(
        r#"set -u
mount -t tmpfs -o size=1536m tmpfs /var/tmp
count() {{ echo $(( $(dmsetup ls | grep -c '^tb') + $(losetup -a | grep -c thinbench) + $(timeout 60 lvm vgs --config 'devices {{ ignore_suspended_devices = 1 }}' --noheadings -o vg_name 2>/dev/null | grep -c tb_) + $(ls /var/tmp/thinbench 2>/dev/null | wc -l) + $(grep -c ' /var/tmp/thinbench' /proc/mounts) )); }}
kill_at() {{
  n=$1; out=/run/tbtest/out$n; mkdir -p $out
  {bin} run --env host --out $out $4 > /run/tbtest/run$n.log 2>&1 &
  pid=$!
  while kill -0 $pid 2>/dev/null && [ "$(cat $out/events.jsonl 2>/dev/null | wc -l)" -lt $2 ]; do sleep 0.05; done
  sleep $3
  if kill -0 $pid 2>/dev/null; then
    kill -9 $pid; wait $pid 2>/dev/null
    last=$(tail -n 1 $out/events.jsonl 2>/dev/null | grep -o '"event":"[a-z_]*"' | head -1)
    st=$(grep -o '"status": "[a-z]*"' $out/summary.json 2>/dev/null | head -1)
    echo "kill $n: $(basename $4) at event $2 + $3s ($(cat $out/events.jsonl 2>/dev/null | wc -l) events), last ${{last:-none}}, summary ${{st:-none}}"
  else
    wait $pid; echo "kill $n: $(basename $4) finished (exit $?) before event $2 + $3s: not a kill"
  fi
  echo "suspended-$n: $(dmsetup info -c --noheadings -o name,attr 2>/dev/null | grep '^tb' | grep -c ':.*s')"
  echo "before-cleanup-$n: $(count)"
  timeout 300 {bin} cleanup > /run/tbtest/cleanup$n.log 2>&1 || echo "cleanup-$n failed: $(tail -n 5 /run/tbtest/cleanup$n.log)"
  grep -h "dm device" /run/tbtest/cleanup$n.log | sed "s/^/cleanup-$n: /"
  echo "after-cleanup-$n: $(count)"
}}
{kills}
dmsetup ls; losetup -a
{bin} run --env host --out /run/tbtest/c1 {conc} > /run/tbtest/c1.log 2>&1 &
p1=$!
{bin} run --env host --out /run/tbtest/c2 {conc} > /run/tbtest/c2.log 2>&1 &
p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
echo "concurrent-exits: $r1 $r2"
echo "concurrent-run-ids: $(grep -ho '"run_id": "[^"]*"' /run/tbtest/c1/summary.json /run/tbtest/c2/summary.json | tr '\n' ' ')"
[ $r1 = 0 ] && [ $r2 = 0 ] || tail -n 20 /run/tbtest/c1.log /run/tbtest/c2.log
echo "after-concurrent: $(count)"
{bin} run --env host --out /run/tbtest/wrong {wrong} > /run/tbtest/wrong.log 2>&1
echo "wrong-expectation-exit: $?"
grep -h "data blocks allocated: expected" /run/tbtest/wrong.log | head -2
"#,
        conc = fixtures.join("concurrent.toml").display(),
        wrong = fixtures.join("wrong-expectation.toml").display(),
        bin = BIN,
    );
    let out = Command::new(BIN)
        .args(["vm", "exec", "--timeout", "20m", "--"])
        .arg(&script)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    let num = |key: &str| -> i64 {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(-1)
    };
    let mut killed = 0;
    let mut with_debris = 0;
    for n in 1..=KILLS {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("kill {n}: ")))
            .unwrap_or_else(|| panic!("kill {n} did not report"));
        let before = num(&format!("before-cleanup-{n}:"));
        let after = num(&format!("after-cleanup-{n}:"));
        assert_eq!(after, 0, "cleanup left debris after kill {n}: {line}");
        assert!(
            !line.contains("\"status\": \"passed\""),
            "a killed run's summary must never say passed: {line}"
        );
        if !line.contains("not a kill") {
            killed += 1;
            assert!(
                line.contains("summary none") || line.contains("\"status\": \"incomplete\""),
                "a killed run is incomplete: {line}"
            );
        }
        if before > 0 {
            with_debris += 1;
        }
    }
    eprintln!(
        "kill test: {killed} kills at random points (seed {seed}), {with_debris} left debris for cleanup, 0 leftovers after cleanup"
    );
    assert!(killed >= KILLS / 2, "too few runs were still alive to kill");
    assert!(with_debris > 0, "no kill landed while the run held devices");
    assert!(
        text.contains("concurrent-exits: 0 0"),
        "two runs at once must both pass"
    );
    let ids = text
        .lines()
        .find_map(|l| l.strip_prefix("concurrent-run-ids: "))
        .unwrap_or_default();
    let ids: Vec<&str> = ids
        .split("\"run_id\": ")
        .filter(|s| !s.trim().is_empty())
        .collect();
    assert!(
        ids.len() == 2 && ids[0] != ids[1],
        "distinct run ids: {ids:?}"
    );
    // kill.toml's loop pool sits on a dm-delay layer, made before the pool: whenever
    // cleanup removed a device of that pool, it must also have found and removed the layer
    // (after the pool above it: `after` is 0 only if it went). At least one kill lands
    // after the pool exists (kill points are spread over ~60 events; it exists by ~4).
    let mut layer_checked = 0;
    for n in (1..=KILLS).filter(|n| (n - 1) % 2 == 0) {
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(&format!("cleanup-{n}: ")))
            .collect();
        if lines
            .iter()
            .any(|l| l.contains("dm device tb-") && l.contains("-loop-"))
        {
            layer_checked += 1;
            assert!(
                lines.iter().any(|l| l.contains("-loop-data-delay")),
                "kill {n}: cleanup removed the loop pool but did not list its fault layer: {lines:?}"
            );
        }
    }
    eprintln!("kill test: the loop pool's dm-delay layer found and removed by cleanup after {layer_checked} kill(s)");
    assert!(
        layer_checked > 0,
        "no kill landed while the loop pool existed"
    );
    assert_eq!(
        num("after-concurrent:"),
        0,
        "the concurrent runs left debris"
    );
    assert_eq!(num("wrong-expectation-exit:"), 1);
    assert!(text.contains("data blocks allocated: expected 999, observed"));
}

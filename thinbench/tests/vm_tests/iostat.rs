//! What a shipped scenario's IO counters (`io.data.*`, `io.metadata.*`: the block layer's
//! counts of what the pool sent its devices) must show on a real kernel: every step
//! measured (or saying why not); every write workload's acknowledged bytes on the data
//! device; a metadata commit for every thin made; discards passed down exactly when the
//! pool passes them down; none from a fill; the `thin_ls` cross-check's own IO apart.

use thinbench_schema::record::{RunSummary, Status, StepResult};

fn metric(st: &StepResult, name: &str) -> Option<f64> {
    st.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

/// Checks `s`'s counters; panics naming the case and step.
pub fn check(name: &str, s: &RunSummary) {
    for c in &s.cases {
        let loop_lvm = c.pool.kind.as_str() == "loop-lvm";
        let passdown = c.pool.settings.as_ref().map(|x| x.discard_passdown);
        for st in &c.steps {
            let at = format!("{name} {} step {} ({})", c.pool.name, st.name, st.action);
            let note = st.io_not_measured.as_deref().unwrap_or("");
            let Some(data_writes) = metric(st, "io.data.writes") else {
                // Only a device replaced during the step (lvm's first thin, a repair, a
                // reboot) may go unmeasured, and it says so.
                assert!(
                    note.contains("data device not measured"),
                    "{at}: no io.data.*, note {note:?}"
                );
                continue;
            };
            let v = |n: &str| metric(st, n).unwrap_or_else(|| panic!("{at}: no {n}"));
            eprintln!(
                "{at}: data r {} w {} ({} B) d {} | metadata r {} w {} ({} B) flushes {:?}",
                v("io.data.reads"),
                data_writes,
                v("io.data.write_bytes"),
                v("io.data.discards"),
                metric(st, "io.metadata.reads").unwrap_or(f64::NAN),
                metric(st, "io.metadata.writes").unwrap_or(f64::NAN),
                metric(st, "io.metadata.write_bytes").unwrap_or(f64::NAN),
                metric(st, "io.metadata.flushes"),
            );
            // Flushes: counted by loop devices, not by dm's bio-based devices.
            assert_eq!(
                metric(st, "io.data.flushes").is_some(),
                loop_lvm,
                "{at}: flushes only on loop devices"
            );
            if st.status != Status::Passed {
                continue;
            }
            // O_DIRECT writes pass through dm-thin: every acknowledged byte reached the
            // data device (plus copies, zeroing, flushes).
            let writes = matches!(st.action.as_str(), "small-write" | "fill" | "cow-overwrite");
            if writes {
                assert!(
                    data_writes > 0.0,
                    "{at}: a write workload, no data-device write"
                );
                if let Some(w) = st
                    .workload
                    .as_ref()
                    .filter(|_| st.action != "cow-overwrite")
                {
                    assert!(
                        v("io.data.write_bytes") >= w.bytes.0 as f64,
                        "{at}: {} B written by the workload, {} B reached the data device",
                        w.bytes.0,
                        v("io.data.write_bytes")
                    );
                }
            }
            // A thin made is a pool transaction: one metadata commit at least (a commit
            // is two flushes on a loop device; on dm devices the superblock write shows).
            if matches!(st.action.as_str(), "create-thin" | "snapshot") && st.error.is_none() {
                match metric(st, "io.metadata.flushes") {
                    Some(f) => assert!(f >= 1.0, "{at}: no metadata commit (flushes {f})"),
                    None if note.contains("metadata device not measured") => {}
                    None => assert!(
                        metric(st, "io.metadata.writes").is_some_and(|w| w >= 1.0),
                        "{at}: no metadata write"
                    ),
                }
            }
            // Nothing in a fill discards: deleting a thin frees blocks in metadata only.
            if st.action == "fill" {
                assert_eq!(v("io.data.discards"), 0.0, "{at}: a fill sent discards");
            }
            if st.action == "delete" {
                let returned = metric(st, "space.pool_blocks_returned").unwrap_or(0.0);
                match passdown {
                    Some(false) => assert_eq!(
                        v("io.data.discards"),
                        0.0,
                        "{at}: passdown off, yet discards reached the data device"
                    ),
                    // Blocks freed by discards go down with passdown on (a delete's blocks
                    // come back by discard in every method that returns any).
                    Some(true) if returned > 0.0 => assert!(
                        v("io.data.discards") > 0.0,
                        "{at}: {returned} blocks freed with passdown on, no discard sent"
                    ),
                    _ => {}
                }
            }
            // The cross-check's reserve/release commits are counted apart, not here. A
            // read-only pool (metadata exhausted) refuses the snapshot: the check is
            // skipped and writes nothing.
            let thin_ls_ran = st.expectations.iter().any(|x| {
                x.what.starts_with("thin_ls agrees with the model") && x.status == Status::Passed
            });
            if let Some(w) = metric(st, "oracle.thin_ls_metadata_writes").filter(|_| thin_ls_ran) {
                assert!(w > 0.0, "{at}: thin_ls's metadata snapshot wrote nothing?");
            }
        }
    }
}

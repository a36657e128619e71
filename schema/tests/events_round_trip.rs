//! Every event kind the runner writes reads back as written: `RunEvent` flattens its kind
//! beside `t_ms`, so a kind's own field named like the event's would make a line that
//! serde writes and cannot read (a duplicate key).

use thinbench_schema::record::{EventKind, RunEvent};

fn round_trip(kind: EventKind) {
    let ev = RunEvent { t_ms: 7, kind };
    let line = serde_json::to_string(&ev).unwrap();
    let back: RunEvent =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line} does not read back: {e}"));
    assert_eq!(back, ev, "{line}");
}

#[test]
fn kernel_time_and_sampling_events_read_back() {
    round_trip(EventKind::KernelLog {
        line: "[    3.925821] device-mapper: thin: 253:0: reached low water mark".into(),
        at_ms: Some(370),
        step: Some(1),
    });
    round_trip(EventKind::KernelLog {
        line: "x".into(),
        at_ms: None,
        step: None,
    });
    round_trip(EventKind::KernelClock {
        usec: 3_582_313,
        marked_ms: 27,
        uncertainty_ms: 0,
        drift_ms: Some(-1),
    });
    round_trip(EventKind::SamplingGap {
        pool: "direct".into(),
        from_ms: 3968,
        to_ms: 4472,
        why: "ENXIO".into(),
    });
}

#[test]
fn a_kernel_log_line_of_an_earlier_version_still_reads() {
    let back: RunEvent =
        serde_json::from_str(r#"{"t_ms":5,"event":"kernel_log","line":"x"}"#).unwrap();
    assert_eq!(
        back.kind,
        EventKind::KernelLog {
            line: "x".into(),
            at_ms: None,
            step: None
        }
    );
}

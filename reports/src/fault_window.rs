//! Fault layers' times in force, paired from a case timeline's `fault-on` and
//! `fault-off` entries (the report's bands over the usage plot).

/// A fault layer's time in force.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultWindow {
    /// Put in force, ms since run start.
    pub start_ms: u64,
    /// Taken out, ms since run start; `None` if the record ends with it in force.
    pub end_ms: Option<u64>,
    /// The layer, e.g. `data-flakey (drop_writes)`.
    pub label: String,
}

/// Pair the case timeline's `fault-on` and `fault-off` entries by layer.
pub fn fault_windows(entries: &[thinbench_schema::record::TimelineEntry]) -> Vec<FaultWindow> {
    let mut out: Vec<FaultWindow> = Vec::new();
    for e in entries {
        match e.kind.as_str() {
            "fault-on" => {
                let label = e.text.split(" in force").next().unwrap_or(&e.text);
                out.push(FaultWindow {
                    start_ms: e.t_ms,
                    end_ms: None,
                    label: label.to_owned(),
                });
            }
            "fault-off" => {
                let label = e.text.split(" out of force").next().unwrap_or(&e.text);
                if let Some(w) = out
                    .iter_mut()
                    .rev()
                    .find(|w| w.end_ms.is_none() && w.label == label)
                {
                    w.end_ms = Some(e.t_ms);
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod fault_window_tests {
    use super::*;
    use thinbench_schema::record::TimelineEntry;

    fn e(t_ms: u64, kind: &str, text: &str) -> TimelineEntry {
        TimelineEntry {
            t_ms,
            kind: kind.into(),
            text: text.into(),
        }
    }

    #[test]
    fn on_and_off_pair_by_layer_and_an_open_one_stays_open() {
        let w = fault_windows(&[
            e(10, "fault-on", "data-flakey in force: usage 50%"),
            e(11, "fault-on", "metadata-flakey in force: usage 50%"),
            e(20, "mode", "rw -> ro"),
            e(30, "fault-off", "metadata-flakey out of force: reboot"),
            e(40, "fault-on", "metadata-flakey in force: step x"),
        ]);
        assert_eq!(w.len(), 3);
        assert_eq!((w[0].label.as_str(), w[0].end_ms), ("data-flakey", None));
        assert_eq!((w[1].start_ms, w[1].end_ms), (11, Some(30)));
        assert_eq!((w[2].start_ms, w[2].end_ms), (40, None));
    }
}

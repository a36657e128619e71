//! `thin_delta`'s output (thin-provisioning-tools 0.9.0, without `--verbose`): the
//! virtual block ranges where two thins map the same data block, different ones, or
//! only one of them maps.

/// How the two thins compare over a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeltaKind {
    /// Both map the same data block.
    Same,
    /// Both map, to different data blocks.
    Different,
    /// Only the left thin (`--thin1`) maps.
    LeftOnly,
    /// Only the right thin (`--thin2`) maps.
    RightOnly,
}

impl DeltaKind {
    /// The element's name in the XML.
    pub fn tag(self) -> &'static str {
        match self {
            DeltaKind::Same => "same",
            DeltaKind::Different => "different",
            DeltaKind::LeftOnly => "left_only",
            DeltaKind::RightOnly => "right_only",
        }
    }
}

/// One range of `thin_delta`'s output, in blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeltaRange {
    /// How the thins compare.
    pub kind: DeltaKind,
    /// First virtual block.
    pub begin: u64,
    /// Blocks.
    pub length: u64,
}

/// Parse `thin_delta --thin1 L --thin2 R` output: a `superblock`, one `diff` naming
/// `left` and `right`, and its ranges. Anything else is an error: a skipped range would
/// make the comparison with the model pass when it should not.
pub fn parse_thin_delta(text: &str, left: u64, right: u64) -> Result<Vec<DeltaRange>, String> {
    let mut out = Vec::new();
    let (mut in_diff, mut done) = (false, false);
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let tag = line
            .strip_prefix('<')
            .and_then(|l| l.split([' ', '>', '/']).next())
            .unwrap_or("");
        let attr = |name: &str| -> Result<u64, String> {
            let key = format!(" {name}=\"");
            line.find(&key)
                .map(|s| &line[s + key.len()..])
                .and_then(|r| r.split('"').next())
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("thin_delta line {n}: no numeric `{name}` in {line:?}"))
        };
        match (tag, in_diff) {
            ("superblock", false) if !done => {}
            ("diff", false) => {
                let (l, r) = (attr("left")?, attr("right")?);
                if (l, r) != (left, right) {
                    return Err(format!(
                        "thin_delta line {n}: a diff of {l} and {r}, not {left} and {right}"
                    ));
                }
                in_diff = true;
            }
            ("", true) if line == "</diff>" => {
                in_diff = false;
                done = true;
            }
            ("", false) if line == "</superblock>" && done => return Ok(out),
            (t, true) => {
                let kind = [
                    DeltaKind::Same,
                    DeltaKind::Different,
                    DeltaKind::LeftOnly,
                    DeltaKind::RightOnly,
                ]
                .into_iter()
                .find(|k| k.tag() == t)
                .ok_or_else(|| format!("thin_delta line {n}: unexpected {line:?}"))?;
                let (begin, length) = (attr("begin")?, attr("length")?);
                if begin.checked_add(length).is_none() || length == 0 {
                    return Err(format!("thin_delta line {n}: a bad range in {line:?}"));
                }
                out.push(DeltaRange {
                    kind,
                    begin,
                    length,
                });
            }
            _ => return Err(format!("thin_delta line {n}: unexpected {line:?}")),
        }
    }
    Err("thin_delta: output ends before </superblock>".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// thin_delta 0.9.0's own output for two thins of a restored metadata file.
    const OUT: &str = r#"<superblock uuid="" time="1" transaction="2" data_block_size="128" nr_data_blocks="100">
  <diff left="1" right="2">
    <same begin="0" length="2"/>
    <different begin="2" length="1"/>
    <left_only begin="5" length="1"/>
    <right_only begin="7" length="1"/>
  </diff>
</superblock>
"#;

    #[test]
    fn every_kind_of_range_and_nothing_else() {
        let r = parse_thin_delta(OUT, 1, 2).unwrap();
        let got: Vec<_> = r.iter().map(|d| (d.kind, d.begin, d.length)).collect();
        assert_eq!(
            got,
            [
                (DeltaKind::Same, 0, 2),
                (DeltaKind::Different, 2, 1),
                (DeltaKind::LeftOnly, 5, 1),
                (DeltaKind::RightOnly, 7, 1)
            ]
        );
        assert!(parse_thin_delta(OUT, 2, 1)
            .unwrap_err()
            .contains("not 2 and 1"));
        let cut = &OUT[..OUT.len() - 14];
        assert!(parse_thin_delta(cut, 1, 2)
            .unwrap_err()
            .contains("ends before"));
        let odd = OUT.replace("left_only", "middle");
        assert!(parse_thin_delta(&odd, 1, 2)
            .unwrap_err()
            .contains("unexpected"));
        let empty =
            "<superblock uuid=\"\">\n  <diff left=\"1\" right=\"2\">\n  </diff>\n</superblock>\n";
        assert_eq!(parse_thin_delta(empty, 1, 2).unwrap(), []);
    }
}

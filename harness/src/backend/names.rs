//! Every name a run gives a device carries its run id, so `thinbench cleanup` can tell
//! its leftovers from anything else on the machine and never touches the rest.

/// dm names start with this; dm uuids with [`UUID_PREFIX`].
pub const NAME_PREFIX: &str = "tb-";
/// dm uuid prefix.
pub const UUID_PREFIX: &str = "THINBENCH-";
/// LVM tag on every VG a run creates.
pub const VG_TAG: &str = "thinbench";

/// Names for one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// Run id (letters, digits, `-`).
    pub run_id: String,
}

impl Names {
    /// Names for `run_id`.
    pub fn new(run_id: &str) -> Names {
        Names {
            run_id: run_id.to_owned(),
        }
    }
    /// dm device name for `pool`'s `part`.
    pub fn dm(&self, pool: &str, part: &str) -> String {
        format!("{NAME_PREFIX}{}-{pool}-{part}", self.run_id)
    }
    /// dm uuid for `pool`'s `part`.
    pub fn uuid(&self, pool: &str, part: &str) -> String {
        format!("{UUID_PREFIX}{}-{pool}-{part}", self.run_id)
    }
    /// VG name for a direct-lvm pool.
    pub fn vg(&self, pool: &str) -> String {
        format!("tb_{}_{pool}", self.run_id.replace('-', "_"))
    }
    /// The per-run LVM tag.
    pub fn run_tag(&self) -> String {
        format!("thinbench_run_{}", self.run_id.replace('-', "_"))
    }
}

/// The run id inside a dm name or uuid made by [`Names`], if it is one of ours.
/// Run ids look like `20261123T124501-1a2b`.
pub fn run_id_of(name_or_uuid: &str) -> Option<&str> {
    let rest = name_or_uuid
        .strip_prefix(NAME_PREFIX)
        .or_else(|| name_or_uuid.strip_prefix(UUID_PREFIX))?;
    let end = rest.match_indices('-').nth(1).map(|(i, _)| i)?;
    let id = &rest[..end];
    let ok = id.len() == 20 && id.as_bytes()[8] == b'T' && id.as_bytes()[15] == b'-';
    ok.then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn names_carry_the_run_id() {
        let n = Names::new("20261123T124501-1a2b");
        assert_eq!(n.dm("loop", "pool"), "tb-20261123T124501-1a2b-loop-pool");
        assert_eq!(
            run_id_of(&n.dm("loop", "pool")),
            Some("20261123T124501-1a2b")
        );
        assert_eq!(
            run_id_of(&n.uuid("loop", "base")),
            Some("20261123T124501-1a2b")
        );
        assert_eq!(run_id_of("tb-notours"), None);
        assert_eq!(run_id_of("docker-8:1-123-pool"), None);
        assert_eq!(n.vg("direct"), "tb_20261123T124501_1a2b_direct");
    }
}

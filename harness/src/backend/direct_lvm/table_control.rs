//! direct-lvm's `reload` and `resize`, in lvm's own commands: `lvchange --errorwhenfull`,
//! `--zero`, `--discards` (lvm reloads the pool's table itself; `lvchange --refresh` when
//! nothing changes), `lvextend -L` / `--poolmetadatasize` to grow, `lvresize` to a smaller
//! size (which lvm refuses for thin pools), with the VG deactivated around it offline.
//! The keys lvm has no command for (`read_only`, `low_water_mark`, `chunk_size`) the
//! validator reports; here they are refused as unsupported.

use thinbench_schema::units::Bytes;

use super::DirectLvmPool;
use crate::backend::error::BackendError;
use crate::backend::pool::pool_table;
use crate::backend::resize::Resized;
use crate::backend::table::PoolTable;
use crate::spec::{NoSpacePolicy, ReloadSpec, ResizeAmount, ResizeDevice, ResizeSpec};

fn yes_no(on: bool) -> &'static str {
    if on {
        "y"
    } else {
        "n"
    }
}

/// lvm's one `--discards` setting (ignore, nopassdown, passdown) that `change` asks of a
/// pool whose table is `now`, if it differs from the pool's.
fn discards_change(now: &PoolTable, change: &ReloadSpec) -> Option<&'static str> {
    let word = |ignore: bool, pass: bool| match (ignore, pass) {
        (true, _) => "ignore",
        (false, true) => "passdown",
        (false, false) => "nopassdown",
    };
    let (ignoring, passing) = (
        now.has_feature("ignore_discard"),
        !now.has_feature("no_discard_passdown"),
    );
    let wanted = word(
        change.ignore_discard.unwrap_or(ignoring),
        change.discard_passdown.unwrap_or(passing),
    );
    (wanted != word(ignoring, passing)).then_some(wanted)
}

impl DirectLvmPool {
    fn live_table(&self) -> Result<PoolTable, BackendError> {
        pool_table(&self.dm, &self.pool_dm)
    }

    /// `reload` (see `PoolBackend::reload`).
    pub(super) fn reload_with_lvm(
        &mut self,
        change: &ReloadSpec,
    ) -> Result<PoolTable, BackendError> {
        for (key, asked) in [
            ("read_only", change.read_only.is_some()),
            ("low_water_mark", change.low_water_mark.is_some()),
            ("chunk_size", change.chunk.is_some()),
        ] {
            if asked {
                return Err(BackendError::Unsupported(format!(
                    "`{key}` cannot be reloaded on a direct-lvm pool: lvm has no command for it"
                )));
            }
        }
        let pool = format!("{}/thinpool", self.vg);
        let now = self.live_table()?;
        let mut args: Vec<(&str, &str)> = Vec::new();
        if let Some(n) = change.no_space {
            let on = n == NoSpacePolicy::Error;
            // lvm refuses to "change" a setting to its current value.
            if on != now.has_feature("error_if_no_space") {
                args.push(("--errorwhenfull", yes_no(on)));
            }
        }
        if let Some(z) = change.block_zeroing {
            if z == now.has_feature("skip_block_zeroing") {
                args.push(("--zero", yes_no(z)));
            }
        }
        let discards = discards_change(&now, change);
        if let Some(d) = discards {
            args.push(("--discards", d));
        }
        if args.is_empty() {
            self.lvm(&["lvchange", "--refresh", &pool])?;
        }
        for (flag, value) in args {
            self.lvm(&["lvchange", flag, value, &pool])?;
        }
        self.refresh_pool_name()?;
        self.live_table()
    }

    /// The pool's data LV size, from lvm.
    fn data_size(&mut self) -> Result<Bytes, BackendError> {
        let pool = format!("{}/thinpool", self.vg);
        let out = self.lvm(&[
            "lvs",
            "--noheadings",
            "--nosuffix",
            "--units",
            "b",
            "-o",
            "lv_size",
            &pool,
        ])?;
        out.trim()
            .parse::<u64>()
            .map(Bytes)
            .map_err(|_| BackendError::Status {
                pool: self.vg.clone(),
                message: format!("lvs lv_size: cannot read {:?}", out.trim()),
            })
    }

    /// `resize` (see `PoolBackend::resize`).
    pub(super) fn resize_with_lvm(&mut self, r: &ResizeSpec) -> Result<Resized, BackendError> {
        self.refuse_under_log("resizing an LV")?;
        let start = self.construction.len();
        let vg = self.vg.clone();
        let pool = format!("{vg}/thinpool");
        let before = match r.device {
            ResizeDevice::Data => self.data_size()?,
            ResizeDevice::Metadata => self.metadata_size()?,
        };
        let target = r.amount.target(before);
        let flag = match r.device {
            ResizeDevice::Data => "-L",
            ResizeDevice::Metadata => "--poolmetadatasize",
        };
        let (tool, size) = match r.amount {
            ResizeAmount::By(b) => ("lvextend", format!("+{}s", b.sectors().0)),
            // A shrink: lvresize takes both flags (lvreduce no --poolmetadatasize), and
            // lvm refuses to reduce a thin pool's data or metadata.
            ResizeAmount::To(t) if t < before => ("lvresize", format!("{}s", t.sectors().0)),
            ResizeAmount::To(t) => ("lvextend", format!("{}s", t.sectors().0)),
        };
        if !r.online {
            self.lvm(&["vgchange", "-an", &vg])?;
        }
        let resized = if target == before {
            // The same size: lvm has nothing to do; the pool is reloaded as it is.
            self.lvm(&["lvchange", "--refresh", &pool]).map(|_| ())
        } else {
            self.lvm(&[tool, "-y", flag, &size, &pool]).map(|_| ())
        };
        if !r.online {
            // Back up even when lvm refused, so the case goes on with its pool.
            let up = self.lvm(&["vgchange", "-ay", &vg]);
            resized?;
            up?;
            self.refresh_thins()?;
        } else {
            resized?;
            self.refresh_pool_name()?;
        }
        let after = match r.device {
            ResizeDevice::Data => self.data_size()?,
            ResizeDevice::Metadata => self.metadata_size()?,
        };
        Ok(Resized {
            before,
            after,
            commands: self.construction[start..].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discards_asks_lvm_only_for_a_change() {
        let table = |f: &str| PoolTable::parse(&format!("1:2 3:4 1024 0 {f}")).unwrap();
        let ask = |ignore: Option<bool>, pass: Option<bool>| ReloadSpec {
            ignore_discard: ignore,
            discard_passdown: pass,
            ..ReloadSpec::default()
        };
        let passdown = table("0");
        assert_eq!(discards_change(&passdown, &ask(None, None)), None);
        assert_eq!(discards_change(&passdown, &ask(None, Some(true))), None);
        assert_eq!(
            discards_change(&passdown, &ask(None, Some(false))),
            Some("nopassdown")
        );
        assert_eq!(
            discards_change(&passdown, &ask(Some(true), None)),
            Some("ignore")
        );
        let ignoring = table("1 ignore_discard");
        assert_eq!(discards_change(&ignoring, &ask(Some(true), None)), None);
        assert_eq!(
            discards_change(&ignoring, &ask(Some(false), None)),
            Some("passdown")
        );
        let nopass = table("1 no_discard_passdown");
        assert_eq!(
            discards_change(&nopass, &ask(Some(false), Some(true))),
            Some("passdown")
        );
        assert_eq!(discards_change(&nopass, &ask(Some(false), None)), None);
    }
}

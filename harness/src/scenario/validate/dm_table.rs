//! `dm-table`: a hand-written table, parsed by each target's grammar. A device appears
//! only as a reference to one of the case's (`{device:NAME}`, `{pool}`,
//! `{pool-metadata}`, `{pool-data}`); any other word where a target takes a device, and
//! any target but [`TARGETS`], is refused, so a scenario cannot map a device the run
//! did not make.

use super::control::expects_failure;
use super::walk::Effect;
use super::Checker;
use crate::scenario::raw::RawStep;
use crate::spec::{
    Action, Count, DeviceRef, DmTableSpec, TableArg, TableDevice, TableLineSpec, POOL_FEATURES,
    TARGETS,
};
use serde_spanned::Spanned;
use thinbench_schema::ids::Ident;

/// Most lines a table may have, and most stripes of a striped line.
const MAX_LINES: usize = 16;
const MAX_STRIPES: u64 = 8;

/// What a word of a target's grammar is.
#[derive(Clone, Copy)]
enum Slot {
    Dev,
    Num,
}

/// A line's words parsed, or why not.
fn parse_line(text: &str) -> Result<TableLineSpec, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [start, len, target, args @ ..] = words.as_slice() else {
        return Err("a table line is \"<start> <length> <target> <args…>\"".into());
    };
    if !TARGETS.contains(target) {
        return Err(format!(
            "target `{target}` is not one a hand-written table may use: {}",
            TARGETS.join(", ")
        ));
    }
    let mut out = TableLineSpec {
        start: count(start)?,
        len: count(len)?,
        target: (*target).to_owned(),
        args: Vec::new(),
    };
    let take = |slots: &[Slot], words: &[&str], out: &mut Vec<TableArg>| -> Result<(), String> {
        for (slot, w) in slots.iter().zip(words) {
            out.push(match slot {
                Slot::Dev => TableArg::Device(device(w)?),
                Slot::Num => TableArg::Count(count(w)?),
            });
        }
        Ok(())
    };
    let arity = |want: usize, grammar: &str| {
        if args.len() == want {
            Ok(())
        } else {
            Err(format!(
                "`{target}` takes {grammar}: {want} arguments, not {}",
                args.len()
            ))
        }
    };
    use Slot::{Dev, Num};
    match *target {
        "linear" => {
            arity(2, "<device> <offset>")?;
            take(&[Dev, Num], args, &mut out.args)?;
        }
        "zero" | "error" => arity(0, "nothing")?,
        "thin" => {
            if args.len() == 3 {
                take(&[Dev, Num, Dev], args, &mut out.args)?;
            } else {
                arity(2, "<pool> <device id> [<external origin>]")?;
                take(&[Dev, Num], args, &mut out.args)?;
            }
        }
        "striped" => {
            let n = match args.first().map(|w| w.parse::<u64>()) {
                Some(Ok(n)) if (1..=MAX_STRIPES).contains(&n) => n,
                _ => {
                    return Err(format!(
                        "`striped` takes <stripes> (1 to {MAX_STRIPES}) <chunk sectors> then <device> <offset> per stripe"
                    ))
                }
            };
            arity(
                2 + 2 * n as usize,
                "<stripes> <chunk sectors> then <device> <offset> per stripe",
            )?;
            let mut slots = vec![Num, Num];
            for _ in 0..n {
                slots.extend([Dev, Num]);
            }
            take(&slots, args, &mut out.args)?;
        }
        _ => {
            // thin-pool: <metadata> <data> <block sectors> <low water mark> [<n> <features…>]
            if args.len() < 4 {
                return Err(
                    "`thin-pool` takes <metadata> <data> <block sectors> <low water mark> [<n> <feature>…]".into(),
                );
            }
            take(&[Dev, Dev, Num, Num], args, &mut out.args)?;
            let rest = &args[4..];
            if let Some((n, features)) = rest.split_first() {
                if n.parse::<usize>() != Ok(features.len()) {
                    return Err(format!(
                        "`thin-pool`'s feature count {n} is not the {} features after it",
                        features.len()
                    ));
                }
                out.args
                    .push(TableArg::Count(Count::Literal(features.len() as u64)));
                for f in features {
                    if !POOL_FEATURES.contains(f) {
                        return Err(format!(
                            "`{f}` is not a thin-pool feature: {}",
                            POOL_FEATURES.join(", ")
                        ));
                    }
                    out.args.push(TableArg::Word((*f).to_owned()));
                }
            }
        }
    }
    Ok(out)
}

/// A number, or `{sectors:…}` of a reference.
fn count(w: &str) -> Result<Count, String> {
    if let Some(r) = braced(w).and_then(|b| b.strip_prefix("sectors:")) {
        return reference(r).map(Count::SectorsOf);
    }
    w.parse::<u64>()
        .map(Count::Literal)
        .map_err(|_| format!("`{w}` is not a number (or {{sectors:NAME}}, the length of a device)"))
}

/// A device reference; anything else where a device goes is refused.
fn device(w: &str) -> Result<DeviceRef, String> {
    match braced(w) {
        Some(b) => match b.strip_prefix("device:") {
            Some(name) => Ident::new(name)
                .map(DeviceRef::Case)
                .map_err(|e| format!("in `{w}`: {e}")),
            None => reference(b),
        },
        None => Err(format!(
            "`{w}` where a device goes: a hand-written table names devices only as {{device:NAME}} (a device of the case), {{pool}}, {{pool-metadata}} or {{pool-data}}, never by path or number"
        )),
    }
}

/// `pool`, `pool-metadata`, `pool-data`, or a case device's name.
fn reference(r: &str) -> Result<DeviceRef, String> {
    Ok(match r {
        "pool" => DeviceRef::Pool,
        "pool-metadata" => DeviceRef::PoolMetadata,
        "pool-data" => DeviceRef::PoolData,
        name => DeviceRef::Case(
            Ident::new(name.strip_prefix("device:").unwrap_or(name))
                .map_err(|e| format!("in `{{{r}}}`: {e}"))?,
        ),
    })
}

fn braced(w: &str) -> Option<&str> {
    w.strip_prefix('{')?.strip_suffix('}')
}

impl Checker {
    /// `dm-table`: where, the lines, the wiped devices.
    pub(super) fn dm_table(&mut self, s: &RawStep) -> (Option<Action>, Effect) {
        let t = &s.dm_table;
        let create = t.create.value().is_some_and(|v| *v.get_ref());
        let resume = t.resume.value().is_none_or(|v| *v.get_ref());
        if let (true, Some(v)) = (create, t.resume.value()) {
            if !*v.get_ref() {
                self.err_hint(
                    v.span(),
                    "`resume = false` with `create = true`",
                    "a device is made live with its table; to test a refusal at load time, load into an existing device",
                );
            }
        }
        let data_blocks = t
            .data_blocks
            .value()
            .and_then(|v| u64::try_from(*v.get_ref()).ok());
        if let (Some(v), false) = (t.data_blocks.value(), resume) {
            self.err_hint(
                v.span(),
                "`data_blocks` with `resume = false`",
                "a table not made live has no pool to count the blocks of",
            );
        }
        let mut effects = Vec::new();
        if let Some(thin) = s.thin.value() {
            // A thin's own table, again: a hand-written one would leave a thin thinbench
            // no longer knows.
            for (key, at) in [
                ("device", s.device.key()),
                ("lines", t.lines.key()),
                ("create", t.create.key()),
                ("wipe", t.wipe.key()),
                ("data_blocks", t.data_blocks.key()),
            ] {
                if let Some(at) = at {
                    self.err_hint(
                        at,
                        format!("`{key}` with `thin`"),
                        "with `thin` the step loads that thin's own live table again; a table of your own goes to `device`",
                    );
                }
            }
            let id = self.ident(thin, "thin name");
            let action = id.map(|id| {
                Action::DmTable(DmTableSpec {
                    device: TableDevice::Thin(id),
                    lines: Vec::new(),
                    wipe: Vec::new(),
                    resume,
                    data_blocks: None,
                })
            });
            return (action, Effect::Read { thin: thin.clone() });
        }
        let dev_raw = self.required(
            &s.device,
            &s.table,
            "dm-table step has no `device`",
            "add `device = \"...\"`: \"pool\", a device of the case, or with `create = true` a new name",
        );
        let device = dev_raw.cloned().and_then(|v| {
            let name = v.get_ref().as_str();
            match (name, create) {
                ("pool", false) if !expects_failure(s) => {
                    self.err_hint(
                        v.span(),
                        "a hand-written table loaded into the case's pool must expect its refusal",
                        "add `expect.error`: a table the kernel took would leave a pool thinbench no longer knows (`reload` changes its settings)",
                    );
                    None
                }
                ("pool", false) => Some(TableDevice::Pool),
                (_, false) => {
                    let id = self.ident(&v, "device name")?;
                    effects.push(Effect::DeviceIo {
                        device: v.clone(),
                        region: None,
                        writes: true,
                    });
                    Some(TableDevice::Case(id))
                }
                (_, true) => self.ident(&v, "device name").map(TableDevice::Probe),
            }
        });
        let lines = match self.required(
            &t.lines,
            &s.table,
            "dm-table step has no `lines`",
            "add `lines = [\"0 {sectors:l2} linear {device:l2} 0\"]`",
        ) {
            Some(v) if v.get_ref().is_empty() || v.get_ref().len() > MAX_LINES => {
                self.err_hint(
                    v.span(),
                    format!("a table of {} lines", v.get_ref().len()),
                    format!("give 1 to {MAX_LINES} lines"),
                );
                None
            }
            Some(v) => {
                let mut ok = Vec::new();
                for line in v.get_ref() {
                    match parse_line(line.get_ref()) {
                        Ok(l) => ok.push(l),
                        Err(e) => self.err_hint(
                            line.span(),
                            e,
                            "see docs/scenario-format.md, \"dm-table\"",
                        ),
                    }
                }
                (ok.len() == v.get_ref().len()).then_some(ok)
            }
            None => None,
        };
        // Every case device named must exist by then.
        if let (Some(lines), Some(v)) = (&lines, t.lines.value()) {
            let spec = DmTableSpec {
                device: TableDevice::Pool,
                lines: lines.clone(),
                wipe: Vec::new(),
                resume,
                data_blocks,
            };
            for d in spec.named_devices() {
                if let DeviceRef::Case(n) = d {
                    effects.push(Effect::DeviceIo {
                        device: Spanned::new(v.span(), n.as_str().to_owned()),
                        region: None,
                        writes: false,
                    });
                }
            }
        }
        let mut wipe = Some(Vec::new());
        for w in t
            .wipe
            .value()
            .map(|v| v.get_ref().as_slice())
            .unwrap_or(&[])
        {
            match self.ident(w, "device name") {
                Some(id) => {
                    effects.push(Effect::DeviceIo {
                        device: w.clone(),
                        region: None,
                        writes: true,
                    });
                    if let Some(v) = wipe.as_mut() {
                        v.push(id);
                    }
                }
                None => wipe = None,
            }
        }
        let action = match (device, lines, wipe) {
            (Some(device), Some(lines), Some(wipe)) => Some(Action::DmTable(DmTableSpec {
                device,
                lines,
                wipe,
                resume,
                data_blocks,
            })),
            _ => None,
        };
        (action, Effect::Many(effects))
    }
}

#[cfg(test)]
#[path = "dm_table_tests.rs"]
mod tests;

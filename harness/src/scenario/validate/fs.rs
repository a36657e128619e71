//! The filesystem steps: `mkfs`, `mount`, `umount`, `file`, `verify-files`, `fsck`, on a
//! thin or a device of the case (`device`, `fs_device.rs`). Their
//! paths are untrusted input (docs/security.md): relative, no `..`, no empty or `.`
//! component; the runner resolves each inside its mount point (symlinks included).

use super::actions::ActionKind;
use super::walk::{Effect, FsEffect};
use super::{Checker, SizeRule};
use crate::scenario::raw::{Field, RawStep};
use crate::spec::{
    Action, FileOp, FileSpec, FsKind, MkfsProfile, MkfsSpec, MountSpec, VerifyFilesSpec,
};
use serde_spanned::Spanned;
use thinbench_schema::units::Bytes;

/// A stamped record: its header line must fit, and a file step writes it in one go.
const RECORD: SizeRule = SizeRule {
    min: 512,
    max: 64 * Bytes::MIB,
    multiple_of: 1,
    max_why: "a file step writes its record in one buffer",
};

/// The longest path a scenario may give (Linux's PATH_MAX is 4096).
const MAX_PATH: usize = 1024;

/// Why `p` is not a path inside a filesystem a scenario may name, if it is not.
pub(crate) fn path_problem(p: &str) -> Option<String> {
    if let Err(e) = thinbench_schema::untrusted::check_relative(p, false) {
        return Some(e.to_string());
    }
    if p.len() > MAX_PATH {
        return Some(format!("is longer than {MAX_PATH} bytes"));
    }
    if p.split('/').any(|c| c.is_empty() || c == ".") {
        return Some("has an empty or `.` component (`//`, `./`, a trailing `/`)".into());
    }
    if p.split('/').any(|c| c.len() > 255) {
        return Some("has a component longer than 255 bytes".into());
    }
    None
}

/// `step@thin`, the stamp of a record as `verify-files` names it.
fn stamp_problem(s: &str) -> Option<&'static str> {
    let (step, thin) = s.split_once('@')?;
    let ok = |x: &str| thinbench_schema::ids::Ident::new(x).is_ok();
    if ok(step) && ok(thin) {
        None
    } else {
        Some("")
    }
}

impl Checker {
    fn fs_path(&mut self, v: &Spanned<String>, key: &str) -> Option<String> {
        match path_problem(v.get_ref()) {
            None => Some(v.get_ref().clone()),
            Some(why) => {
                self.err_hint(
                    v.span(),
                    format!("`{key}` {why}"),
                    "give a path relative to the filesystem's root, like \"dir/id.txt\": the mount point is thinbench's own",
                );
                None
            }
        }
    }

    /// The filesystem steps' keys, and their effect for the walk.
    pub(super) fn fs_step(&mut self, kind: ActionKind, s: &RawStep) -> (Option<Action>, Effect) {
        let (thin, on_raw) = self.fs_on(s, kind);
        let effect = |op: FsEffect| match &on_raw {
            Some((t, false)) => Effect::Fs {
                thin: t.clone(),
                op,
            },
            Some((d, true)) => Effect::FsDevice {
                device: d.clone(),
                op,
            },
            None => Effect::Nothing,
        };
        match kind {
            ActionKind::Mkfs => {
                let fs = self.choice_or(
                    "fs",
                    &s.fs,
                    FsKind::Ext4,
                    &[("xfs", FsKind::Xfs), ("ext4", FsKind::Ext4)],
                );
                let profile = self.choice_or(
                    "profile",
                    &s.profile,
                    MkfsProfile::Docker,
                    &[
                        ("docker", MkfsProfile::Docker),
                        ("defaults", MkfsProfile::Defaults),
                    ],
                );
                let e = match fs {
                    Some(fs) => effect(FsEffect::Mkfs { fs }),
                    None => effect(FsEffect::Exists),
                };
                let spec = match (thin, fs, profile) {
                    (Some(on), Some(fs), Some(profile)) => {
                        Some(Action::Mkfs(MkfsSpec { on, fs, profile }))
                    }
                    _ => None,
                };
                (spec, e)
            }
            ActionKind::Mount => {
                let discard = s.discard.value().is_some_and(|v| *v.get_ref());
                let nouuid = s.nouuid.value().map(|v| *v.get_ref());
                let e = effect(FsEffect::Mount {
                    nouuid_at: s.nouuid.key(),
                });
                (
                    thin.map(|on| {
                        Action::Mount(MountSpec {
                            on,
                            discard,
                            nouuid,
                        })
                    }),
                    e,
                )
            }
            ActionKind::Umount => (
                thin.map(|on| Action::Umount { on }),
                effect(FsEffect::Umount),
            ),
            ActionKind::Fsck => (
                thin.map(|on| Action::Fsck { on }),
                effect(FsEffect::Unmounted),
            ),
            ActionKind::File => {
                let spec = self.file(s);
                let extras = self.file_extras(s, spec.as_ref().map(|x| &x.1));
                let e = match (&extras, &on_raw) {
                    (Some((_, true)), Some((t, false))) => Effect::BackgroundFile {
                        thin: t.clone(),
                        path: spec.as_ref().map(|x| x.0.clone()),
                    },
                    (Some((_, true)), Some((d, true))) => {
                        self.err_hint(
                            d.span(),
                            "a background file write goes on a thin",
                            "background filesystem IO is a thin's (its model resyncs at the wait); write on a device in the foreground",
                        );
                        effect(FsEffect::Mounted)
                    }
                    _ => effect(FsEffect::Mounted),
                };
                let spec = thin.zip(spec).zip(extras).map(
                    |((on, (path, op, fsync)), (layout, background))| {
                        Action::File(FileSpec {
                            on,
                            path,
                            op,
                            fsync,
                            layout,
                            background,
                        })
                    },
                );
                (spec, e)
            }
            ActionKind::VerifyFiles => {
                let spec = self.verify_files(s);
                (
                    thin.zip(spec).map(|(on, (contents, absent))| {
                        Action::VerifyFiles(VerifyFilesSpec {
                            on,
                            contents,
                            absent,
                        })
                    }),
                    effect(FsEffect::Mounted),
                )
            }
            _ => (None, Effect::Nothing),
        }
    }

    fn file(&mut self, s: &RawStep) -> Option<(String, FileOp, bool)> {
        let path = self
            .required(
                &s.path,
                &s.table,
                "file step has no `path`",
                "add `path = \"id.txt\"`, relative to the filesystem's root",
            )
            .cloned()
            .and_then(|p| self.fs_path(&p, "path"));
        let op = self.choice_or(
            "op",
            &s.op,
            "",
            &[
                ("write", "write"),
                ("append", "append"),
                ("modify", "modify"),
                ("rename", "rename"),
                ("delete", "delete"),
            ],
        );
        if let Field::Absent = s.op {
            self.err_hint(
                s.table.clone(),
                "file step has no `op`",
                "add `op = \"write\"` (or append, modify, rename, delete)",
            );
        }
        let op = op.filter(|o| !o.is_empty())?;
        let sized = matches!(op, "write" | "append");
        if let (false, Some(k)) = (sized, s.size.key()) {
            self.err_hint(
                k,
                format!("`size` is not a key of `op = \"{op}\"`"),
                "only write and append take a size (modify keeps the file's first record's length)",
            );
        }
        if let (true, Some(k)) = (op != "rename", s.new_path.key()) {
            self.err_hint(
                k,
                "`new_path` is for `op = \"rename\"` only",
                "leave it out, or make the op a rename",
            );
        }
        let size = self.size("size", &s.size, 4 * Bytes::KIB, &RECORD);
        let fsync = s.fsync.value().is_none_or(|v| *v.get_ref());
        let op = match op {
            "write" => FileOp::Write { size: size? },
            "append" => FileOp::Append { size: size? },
            "modify" => FileOp::Modify,
            "delete" => FileOp::Delete,
            _ => {
                let to = self
                    .required(
                        &s.new_path,
                        &s.table,
                        "a rename has no `new_path`",
                        "add `new_path = \"other.txt\"`",
                    )
                    .cloned()
                    .and_then(|p| self.fs_path(&p, "new_path"))?;
                FileOp::Rename { to }
            }
        };
        Some((path?, op, fsync))
    }

    #[allow(clippy::type_complexity)]
    fn verify_files(&mut self, s: &RawStep) -> Option<(Vec<(String, Vec<String>)>, Vec<String>)> {
        let mut ok = true;
        let mut contents = Vec::new();
        if let Some(c) = s.contents.value() {
            for (path, stamps) in c.get_ref() {
                match self.fs_path(path, "contents") {
                    Some(p) => {
                        let mut out = Vec::new();
                        for st in stamps {
                            if stamp_problem(st.get_ref()).is_some() || !st.get_ref().contains('@')
                            {
                                self.err_hint(
                                    st.span(),
                                    format!("`{}` is not a stamp `step@thin`", st.get_ref()),
                                    "a record's stamp names the file step that wrote it and the thin it ran on, like \"write-id@base\"",
                                );
                                ok = false;
                            } else {
                                out.push(st.get_ref().clone());
                            }
                        }
                        if stamps.is_empty() {
                            self.err_hint(
                                path.span(),
                                format!("`contents.\"{}\"` is empty", path.get_ref()),
                                "every file a file step writes has at least one record; claim a missing file with `absent`",
                            );
                            ok = false;
                        }
                        contents.push((p, out));
                    }
                    None => ok = false,
                }
            }
        } else if matches!(s.contents, Field::Invalid { .. }) {
            ok = false;
        }
        let mut absent = Vec::new();
        match &s.absent {
            Field::Given { value, .. } => {
                for p in value.get_ref() {
                    match self.fs_path(p, "absent") {
                        Some(x) => {
                            if contents.iter().any(|(c, _)| *c == x) {
                                self.err(
                                    p.span(),
                                    format!("`{x}` is claimed both absent and with contents"),
                                );
                                ok = false;
                            }
                            absent.push(x);
                        }
                        None => ok = false,
                    }
                }
            }
            Field::Invalid { .. } => ok = false,
            Field::Absent => {}
        }
        ok.then_some((contents, absent))
    }
}

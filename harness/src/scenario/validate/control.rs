//! The table-control steps' own keys: `message` (its text read with dm-thin's message
//! grammar, each mistake at its word), `suspend`, `resume`, `activate`, `deactivate`.
//! What they do to a pool's thins is the walk's (`walk/control.rs`).

use super::actions::ActionKind;
use super::walk::{Effect, MessageEffect};
use super::{Checker, THIN_SIZE};
use crate::scenario::raw::{Field, RawStep, Span};
use crate::scenario::suggest;
use crate::spec::{Action, ActivateSpec, ControlDevice, MessageSpec, PoolMessage};
use serde_spanned::Spanned;
use std::time::Duration;
use thinbench_schema::ids::ThinId;

/// dm-thin's pool messages and the arguments each takes.
const MESSAGES: [(&str, &[&str]); 6] = [
    ("create_thin", &["dev id"]),
    ("create_snap", &["dev id", "origin id"]),
    ("delete", &["dev id"]),
    ("set_transaction_id", &["current id", "new id"]),
    ("reserve_metadata_snap", &[]),
    ("release_metadata_snap", &[]),
];

/// A word of the message text and where it is in the file.
struct Word<'t> {
    text: &'t str,
    at: Span,
}

/// The words of `v`, each positioned in the file when the string is written plainly
/// (no escapes: its span is its text between quotes), else at the whole string.
fn words(v: &Spanned<String>) -> Vec<Word<'_>> {
    let text = v.get_ref().as_str();
    let span = v.span();
    let plain = span.len() == text.len() + 2;
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                let at = if plain {
                    span.start + 1 + s..span.start + 1 + i
                } else {
                    span.clone()
                };
                out.push(Word {
                    text: &text[s..i],
                    at,
                });
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Whether the step expects to fail (`expect.error` or `expect.error_contains`): then a
/// number past dm-thin's bounds goes to the kernel, whose refusal is what is tested.
pub(super) fn expects_failure(s: &RawStep) -> bool {
    s.expect.value().is_some_and(|e| {
        let e = e.get_ref();
        e.error.value().is_some() || e.error_contains.value().is_some()
    })
}

impl Checker {
    /// `message`: the text, checked against dm-thin's message grammar.
    pub(super) fn message(&mut self, s: &RawStep) -> (Option<Action>, Effect) {
        let kind = ActionKind::Message;
        let Some(v) = self.required(
            &s.text,
            &s.table,
            "message step has no `text`",
            "add `text = \"create_thin 0\"` (a dm-thin pool message)",
        ) else {
            return (None, Effect::Nothing);
        };
        let Some(message) = self.pool_message(v, expects_failure(s)) else {
            return (None, Effect::Nothing);
        };
        let makes = matches!(
            message,
            PoolMessage::CreateThin { .. } | PoolMessage::CreateSnap { .. }
        );
        let (thin, thin_raw) = match &s.thin {
            Field::Absent => (Some(None), None),
            Field::Invalid { .. } => (None, None),
            Field::Given { value, .. } if !makes => {
                self.err_hint(
                    value.span(),
                    format!("`thin` names the thin a create_thin or create_snap message makes, and `{}` makes none", message.name()),
                    "leave `thin` out",
                );
                (None, None)
            }
            Field::Given { .. } => {
                let (t, raw) = self.thin_name(&s.thin, &s.table, kind, "thin", true);
                (t.map(Some), raw)
            }
        };
        // A thin made without a name still holds its id; no step can name `#<id>`.
        let name = match message {
            PoolMessage::CreateThin { id } | PoolMessage::CreateSnap { id, .. } => {
                Some(thin_raw.unwrap_or_else(|| Spanned::new(v.span(), format!("#{id}"))))
            }
            _ => None,
        };
        let effect = Effect::Message(MessageEffect {
            message,
            at: v.span(),
            name,
        });
        let action = thin.map(|thin| Action::Message(MessageSpec { message, thin }));
        (action, effect)
    }

    /// The message in `v`, or its mistakes reported at their words.
    fn pool_message(&mut self, v: &Spanned<String>, expects_failure: bool) -> Option<PoolMessage> {
        let w = words(v);
        let names = MESSAGES.map(|(n, _)| n);
        let Some(first) = w.first() else {
            self.err_hint(
                v.span(),
                "`text` is empty",
                format!("a dm-thin pool message: {}", names.join(", ")),
            );
            return None;
        };
        let Some((name, args)) = MESSAGES.iter().find(|(n, _)| *n == first.text) else {
            let hint = match suggest(first.text, &names) {
                Some(m) => format!(
                    "did you mean `{m}`? dm-thin's messages: {}",
                    names.join(", ")
                ),
                None => format!("dm-thin's messages: {}", names.join(", ")),
            };
            self.err_hint(
                first.at.clone(),
                format!("`{}` is not a dm-thin pool message", first.text),
                hint,
            );
            return None;
        };
        let usage = std::iter::once(name.to_string())
            .chain(args.iter().map(|a| format!("<{a}>")))
            .collect::<Vec<_>>()
            .join(" ");
        if w.len() != args.len() + 1 {
            let at = w.get(args.len() + 1).map_or(v.span(), |x| x.at.clone());
            self.err_hint(
                at,
                format!(
                    "`{name}` takes {} argument{}, and {} {} given",
                    args.len(),
                    if args.len() == 1 { "" } else { "s" },
                    w.len() - 1,
                    if w.len() == 2 { "is" } else { "are" }
                ),
                format!("write `{usage}`"),
            );
            return None;
        }
        let mut nums = Vec::with_capacity(args.len());
        let mut ok = true;
        for (word, what) in w[1..].iter().zip(args.iter()) {
            // dm-thin reads its numbers with kstrtoull, base 10.
            let n = match word.text.parse::<u64>() {
                Ok(n) if word.text.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => {
                    self.err_hint(
                        word.at.clone(),
                        format!(
                            "the {what} of `{name}` must be a decimal number, not `{}`",
                            word.text
                        ),
                        format!("write `{usage}`"),
                    );
                    ok = false;
                    continue;
                }
            };
            // Every argument but a transaction id is a device id.
            let dev_id = what.ends_with("dev id") || *what == "origin id";
            if dev_id && n > u64::from(ThinId::MAX) && !expects_failure {
                self.err_hint(
                    word.at.clone(),
                    format!("the {what} {n} is past dm-thin's 24 bits (at most {})", ThinId::MAX),
                    "to test the kernel's refusal, say the step expects it: `expect.error = \"EINVAL\"`",
                );
                ok = false;
            }
            nums.push(n);
        }
        if !ok {
            return None;
        }
        Some(match (*name, nums.as_slice()) {
            ("create_thin", [id]) => PoolMessage::CreateThin { id: *id },
            ("create_snap", [id, origin]) => PoolMessage::CreateSnap {
                id: *id,
                origin: *origin,
            },
            ("delete", [id]) => PoolMessage::Delete { id: *id },
            ("set_transaction_id", [current, new]) => PoolMessage::SetTransactionId {
                current: *current,
                new: *new,
            },
            ("reserve_metadata_snap", []) => PoolMessage::ReserveMetadataSnap,
            _ => PoolMessage::ReleaseMetadataSnap,
        })
    }

    /// `suspend` (`on`) or `resume`: `device` is "pool" or a thin's name.
    pub(super) fn suspend(&mut self, s: &RawStep, on: bool) -> (Option<Action>, Effect) {
        let (device, thin_raw) = match &s.device {
            Field::Absent => (Some(ControlDevice::Pool), None),
            Field::Invalid { .. } => (None, None),
            Field::Given { value, .. } if value.get_ref() == "pool" => {
                (Some(ControlDevice::Pool), None)
            }
            Field::Given { value, .. } => (
                thinbench_schema::ids::Ident::new(value.get_ref())
                    .ok()
                    .map(ControlDevice::Thin),
                Some(value.clone()),
            ),
        };
        let flush = match &s.flush {
            Field::Invalid { .. } => None,
            f => Some(f.value().is_none_or(|v| *v.get_ref())),
        };
        let after = self.duration(
            "pool_resumes_after",
            &s.pool_resumes_after,
            (Duration::from_millis(100), Duration::from_secs(60)),
        );
        let concurrent = after.flatten().is_some();
        if let (true, None, Some(v)) = (concurrent, &thin_raw, s.pool_resumes_after.value()) {
            self.err_hint(
                v.span(),
                "`pool_resumes_after` is for a thin's suspend or resume",
                "give `device = \"THIN\"`: it is the thin's operation that waits for the pool's resume",
            );
        }
        let action = match (device, flush, after) {
            (Some(device), Some(flush), Some(pool_resumes_after)) if on => Some(Action::Suspend {
                device,
                flush,
                pool_resumes_after,
            }),
            (Some(device), Some(_), Some(pool_resumes_after)) => Some(Action::Resume {
                device,
                pool_resumes_after,
            }),
            _ => None,
        };
        let at = s.device.value().map_or(s.table.clone(), |v| v.span());
        (
            action,
            Effect::Suspend {
                thin: thin_raw,
                on,
                at,
                pool_resumes: concurrent,
            },
        )
    }

    /// `activate`: `thin`, `read_only`, `size`.
    pub(super) fn activate(&mut self, s: &RawStep) -> (Option<Action>, Effect) {
        let (thin, thin_raw) =
            self.thin_name(&s.thin, &s.table, ActionKind::Activate, "thin", false);
        let size = match &s.size {
            Field::Absent => Some(None),
            f => self.size("size", f, 0, &THIN_SIZE).map(Some),
        };
        let read_only = match &s.read_only {
            Field::Invalid { .. } => None,
            f => Some(f.value().is_some_and(|v| *v.get_ref())),
        };
        let action = match (thin, size, read_only) {
            (Some(thin), Some(size), Some(read_only)) => Some(Action::Activate(ActivateSpec {
                thin,
                read_only,
                size,
            })),
            _ => None,
        };
        let effect = Effect::Activate {
            thin: thin_raw,
            size: size.flatten(),
            at: s.size.value().map_or(s.table.clone(), |v| v.span()),
        };
        (action, effect)
    }

    /// `deactivate`: `thin`.
    pub(super) fn deactivate(&mut self, s: &RawStep) -> (Option<Action>, Effect) {
        let (thin, thin_raw) =
            self.thin_name(&s.thin, &s.table, ActionKind::Deactivate, "thin", false);
        (
            thin.map(|thin| Action::Deactivate { thin }),
            Effect::Deactivate { thin: thin_raw },
        )
    }
}

//! IO workloads: `io` steps (thinbench's engine or fio, from shape keys or a fio job the
//! scenario gives) and `engine-vs-fio` (the two engines compared on one thin).

use super::actions::ActionKind;
use super::walk::{region_of, Effect, Region};
use super::{Checker, SizeRule, DEFAULT_IO_SIZE, DEFAULT_SEED, HOST_PATHS_FLAG, IO_SIZE, MIB};
use crate::scenario::raw::{Field, RawStep};
use crate::spec::{Action, IoEngineSpec, IoLength, IoShape, IoSpec, IoTarget, PeerSpec};
use serde_spanned::Spanned;
use std::path::PathBuf;
use std::time::Duration;
use thinbench_schema::ids::Ident;
use thinbench_schema::units::Bytes;

impl Checker {
    /// An `io` step: on a thin of the pool, or on a device of the case (a baseline).
    pub(super) fn io_step(&mut self, s: &RawStep, kind: ActionKind) -> (Option<Action>, Effect) {
        if let Some(p) = s.path.value() {
            return self.io_file(s, kind, p);
        }
        match (s.thin.value(), s.device.value()) {
            (Some(_), Some(d)) => {
                self.err_hint(
                    d.span(),
                    "io step has both `thin` and `device`",
                    "an io step goes to one device: a thin of the pool or a device of the case",
                );
                (None, Effect::Nothing)
            }
            (None, Some(d)) => {
                let name = self.ident(d, "device name");
                let writes = s.job.is_present()
                    || s.job_file.is_present()
                    || s.rw.value().is_some_and(|r| r.get_ref().contains("write"));
                let (spec, region) = self.io(s, name.map(IoTarget::Device));
                (
                    spec.map(Action::Io),
                    Effect::DeviceIo {
                        device: d.clone(),
                        region,
                        writes,
                    },
                )
            }
            _ => {
                let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", false);
                let (spec, region) = self.io(s, thin.map(IoTarget::Thin));
                (
                    spec.map(Action::Io),
                    Effect::Write {
                        thin: thin_raw,
                        region,
                    },
                )
            }
        }
    }

    /// `io` settings, and the region to check against the thin's size (none for a fio
    /// job of the scenario's own: fio places that IO).
    pub(super) fn io(
        &mut self,
        s: &RawStep,
        target: Option<IoTarget>,
    ) -> (Option<IoSpec>, Option<Region>) {
        let fio = self.choice_or(
            "engine",
            &s.engine,
            false,
            &[("thinbench", false), ("fio", true)],
        );
        let given_job = s.job.is_present() || s.job_file.is_present();
        if given_job && fio == Some(false) {
            let key = s.job.key().or(s.job_file.key()).unwrap_or(s.table.clone());
            self.err_hint(
                key,
                "a fio job needs `engine = \"fio\"`",
                "add `engine = \"fio\"`, or describe the IO with `rw`, `io_size`, `queue_depth`, ... for thinbench's engine",
            );
            return (None, None);
        }
        if fio == Some(true) && given_job {
            // The job says what IO to do: the shape keys would be ignored, so refuse them.
            let shape_keys = [
                ("rw", s.rw.key()),
                ("io_size", s.io_size.key()),
                ("queue_depth", s.queue_depth.key()),
                ("jobs", s.jobs.key()),
                ("offset", s.offset.key()),
                ("span", s.span.key()),
                ("runtime", s.runtime.key()),
                ("count", s.count.key()),
                ("seed", s.seed.key()),
            ];
            let mut ok = true;
            for (k, at) in shape_keys {
                if let Some(at) = at {
                    self.err_hint(
                        at,
                        format!("`{k}` cannot go with a fio job: the job says what IO to do"),
                        "put it in the job text, or leave out `job`/`job_file` to have thinbench write the job",
                    );
                    ok = false;
                }
            }
            let text = self.fio_job(s);
            let spec = match (target, text, ok) {
                (Some(target), Some((text, file)), true) => Some(IoSpec {
                    target,
                    engine: IoEngineSpec::FioJob { text, file },
                }),
                _ => None,
            };
            return (spec, None);
        }
        let (shape, region) = self.io_shape(s);
        let spec = match (target, shape, fio) {
            (Some(target), Some(shape), Some(fio)) => Some(IoSpec {
                target,
                engine: if fio {
                    IoEngineSpec::FioShape(shape)
                } else {
                    IoEngineSpec::Thinbench(shape)
                },
            }),
            _ => None,
        };
        (spec, region)
    }

    /// A fio job from `job` (inline) or `job_file` (relative to the scenario's directory),
    /// checked: errors name the job's line.
    fn fio_job(&mut self, s: &RawStep) -> Option<(String, Option<PathBuf>)> {
        let (text, file, at) = match (s.job.value(), s.job_file.value()) {
            (Some(j), Some(f)) => {
                self.err_hint(
                    f.span(),
                    "both `job` and `job_file` are given",
                    "give the job inline (`job`) or as a file (`job_file`), not both",
                );
                let _ = j;
                return None;
            }
            (Some(j), None) => (j.get_ref().clone(), None, j.span()),
            (None, Some(f)) => {
                use thinbench_schema::untrusted;
                let written = f.get_ref();
                let path = match untrusted::resolve_inside(
                    &self.base,
                    written,
                    self.grants.host_paths,
                ) {
                    Ok(p) => p,
                    Err(untrusted::PathRefusal::Unresolvable(e)) => {
                        self.err_hint(
                            f.span(),
                            format!(
                                "cannot read fio job file {}: {e}",
                                self.base.join(written).display()
                            ),
                            "`job_file` is relative to the scenario file's directory",
                        );
                        return None;
                    }
                    Err(why) => {
                        self.err_hint(
                            f.span(),
                            format!("`job_file` {why}"),
                            format!("`job_file` is relative to the scenario file's directory and stays inside it (unless run with `{HOST_PATHS_FLAG}`)"),
                        );
                        return None;
                    }
                };
                // The job file's contents are never quoted: it may be a file the
                // scenario's author could not read themselves.
                let text = untrusted::read(&path, untrusted::limit::FIO_JOB)
                    .map_err(|e| e.reason())
                    .and_then(|b| String::from_utf8(b).map_err(|_| "not UTF-8 text".to_owned()));
                match text {
                    Ok(t) => (t, Some(path), f.span()),
                    Err(why) => {
                        self.err_hint(
                            f.span(),
                            format!("cannot read fio job file {}: {why}", path.display()),
                            "`job_file` is relative to the scenario file's directory",
                        );
                        return None;
                    }
                }
            }
            // A wrong type was reported where it was read.
            (None, None) => return None,
        };
        if let Err(e) = thinbench_workloads::fio::check_job_text(&text) {
            let where_ = match (e.line, &file) {
                (0, _) => String::new(),
                (n, Some(p)) => format!("{}:{n}: ", p.display()),
                (n, None) => format!("line {n} of the job: "),
            };
            self.err_hint(
                at,
                format!("fio job: {where_}{}", e.message),
                "the job runs on the step's thin device, given on fio's command line; only options that shape IO on it are allowed (docs/security.md)",
            );
            return None;
        }
        Some((text, file))
    }

    /// The shape keys of an `io` step (either engine).
    fn io_shape(&mut self, s: &RawStep) -> (Option<IoShape>, Option<Region>) {
        use thinbench_workloads::fio::FioRw;
        let rw = match self.required(
            &s.rw,
            &s.table,
            "io step has no `rw`",
            "add `rw = \"randwrite\"` (or \"write\", \"randread\", \"read\")",
        ) {
            Some(v) => {
                let v = v.clone();
                self.choice(
                    "rw",
                    &v,
                    &[
                        ("randwrite", FioRw::RandWrite),
                        ("write", FioRw::Write),
                        ("randread", FioRw::RandRead),
                        ("read", FioRw::Read),
                    ],
                )
            }
            None => None,
        };
        let io_size = self.size("io_size", &s.io_size, DEFAULT_IO_SIZE, &IO_SIZE);
        let queue_depth = self
            .int(
                "queue_depth",
                &s.queue_depth,
                1,
                (1, thinbench_workloads::io::MAX_QUEUE_DEPTH as i64),
                None,
            )
            .and_then(|n| u32::try_from(n).ok());
        let jobs = self
            .int(
                "jobs",
                &s.jobs,
                1,
                (1, thinbench_workloads::io::MAX_JOBS as i64),
                None,
            )
            .and_then(|n| u32::try_from(n).ok());
        let seed = self
            .int("seed", &s.seed, DEFAULT_SEED, (0, i64::MAX), None)
            .and_then(|n| u64::try_from(n).ok());
        let runtime = self.duration(
            "runtime",
            &s.runtime,
            (Duration::from_millis(100), Duration::from_secs(3600)),
        );
        let length = match (runtime, &s.count) {
            (Some(Some(_)), c) if c.is_present() => {
                if let Some(key) = c.key() {
                    self.err_hint(
                        key,
                        "io step has both `runtime` and `count`",
                        "give one of them: `runtime` (a time) or `count` (a number of IOs)",
                    );
                }
                None
            }
            (Some(Some(d)), _) => Some(IoLength::Runtime(d)),
            (Some(None), Field::Given { value, .. }) => self
                .int_value("count", value, (1, i64::MAX), None)
                .and_then(|n| u64::try_from(n).ok())
                .map(IoLength::Count),
            (Some(None), Field::Absent) => {
                self.err_hint(
                    s.table.clone(),
                    "io step has neither `runtime` nor `count`",
                    "say how long: `runtime = \"2s\"` or `count = 2048` (IOs)",
                );
                None
            }
            _ => None,
        };
        let offset = match &s.offset {
            Field::Absent => Some(Bytes(0)),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.bytes("offset", value),
        };
        let span = match &s.span {
            Field::Absent => Some(None),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.bytes("span", value).map(Some),
        };
        let mut region_ok = true;
        if let (Some(io), Some(off), Some(v)) = (io_size, offset, s.offset.value()) {
            if !off.0.is_multiple_of(io.0) {
                self.err(
                    v.span(),
                    format!(
                        "`offset` is {}, not a multiple of `io_size` ({})",
                        off.human(),
                        io.human()
                    ),
                );
                region_ok = false;
            }
        }
        if let (Some(io), Some(Some(sp)), Some(v), Some(jobs)) =
            (io_size, span, s.span.value(), jobs)
        {
            if sp.0 / io.0 < u64::from(jobs) {
                self.err_hint(
                    v.span(),
                    format!(
                        "`span` is {}: less than one {} IO for each of {jobs} jobs",
                        sp.human(),
                        io.human()
                    ),
                    "each job works on its own slice of the region",
                );
                region_ok = false;
            }
        }
        let region = region_of(s, io_size, offset, span, region_ok);
        let shape = match (rw, &region, queue_depth, jobs, length, seed) {
            (Some(rw), Some(r), Some(queue_depth), Some(jobs), Some(length), Some(seed)) => {
                Some(IoShape {
                    rw,
                    io_size: r.io_size,
                    queue_depth,
                    jobs,
                    offset: *r.offset.get_ref(),
                    span: r.span.as_ref().map(|s| *s.get_ref()),
                    length,
                    seed,
                })
            }
            _ => None,
        };
        (shape, region)
    }

    /// `engine-vs-fio` settings, and its region (from 0) to check against the thin.
    pub(super) fn engine_vs_fio(
        &mut self,
        s: &RawStep,
        thin: Option<Ident>,
    ) -> (Option<PeerSpec>, Option<Region>) {
        const PEER_SPAN: SizeRule = SizeRule {
            min: 4 * MIB,
            max: 64 * 1024 * MIB,
            multiple_of: 64 * 1024,
            max_why: "the benchmark tests behaviour, not size: keep the device small",
        };
        let span = match &s.span {
            Field::Absent => Some(Bytes(64 * MIB)),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => {
                let b = self.bytes("span", value);
                b.filter(|b| self.size_rule("span", value.span(), *b, &PEER_SPAN))
            }
        };
        let runtime = self
            .duration(
                "runtime",
                &s.runtime,
                (Duration::from_millis(200), Duration::from_secs(600)),
            )
            .map(|d| d.unwrap_or(Duration::from_secs(2)));
        let rounds = self
            .int("rounds", &s.rounds, 2, (1, 20), None)
            .and_then(|n| u32::try_from(n).ok());
        let sampling_cost = match &s.sampling_cost {
            Field::Absent => Some(true),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => Some(*value.get_ref()),
        };
        let region = span.map(|b| Region {
            io_size: Bytes(64 * 1024),
            offset: Spanned::new(s.table.clone(), Bytes(0)),
            span: Some(Spanned::new(
                s.span.value().map_or(s.table.clone(), |v| v.span()),
                b,
            )),
        });
        let spec = match (thin, span, runtime, rounds, sampling_cost) {
            (Some(thin), Some(span), Some(runtime), Some(rounds), Some(sampling_cost)) => {
                Some(PeerSpec {
                    thin,
                    span,
                    runtime,
                    rounds,
                    sampling_cost,
                })
            }
            _ => None,
        };
        (spec, region)
    }
}

//! The environment fingerprint: what must be equal for two runs' timings to be
//! comparable. Baselines are stored and chosen by it; the gate refuses to compare across
//! fingerprints and says which fields differ.
//!
//! Fields: the environment kind (`host`/`vm`), the kernel that ran the pools, the
//! accelerator (`tcg`/`kvm`, `none` on a host), the CPU model as the pools' kernel saw it,
//! the number of CPUs it had, the host's CPU model, and the clock the timings were taken
//! on (`wall`, or `instructions`: qemu's instruction counter). The last one is there because under TCG the guest sees a
//! generic "QEMU TCG CPU" whatever the machine, while the emulation's speed is the host's.

use std::fmt;

use serde::{Deserialize, Serialize};
use thinbench_schema::record::{EnvironmentInfo, TimingClock};

/// Where a run's timings were measured.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Fingerprint {
    /// `host` or `vm`.
    pub kind: String,
    /// `uname -r` of the kernel that ran the pools.
    pub kernel: String,
    /// `tcg`, `kvm`, or `none` (host runs).
    pub accel: String,
    /// CPU model as the pools' kernel reports it.
    pub cpu_model: String,
    /// The physical machine's CPU model.
    pub host_cpu_model: String,
    /// CPUs the pools' kernel had (a VM's `--cpus`): one vCPU and two are different
    /// machines under TCG. 0 in baselines written before it was recorded.
    #[serde(default)]
    pub cpus: u32,
    /// `wall`, or `instructions (shift N)` (schema `TimingClock` and `icount_shift`): a
    /// wall-clock timing and an instruction-clock one measure different things. `wall`
    /// in older baselines.
    #[serde(default = "wall")]
    pub clock: String,
}

fn wall() -> String {
    TimingClock::Wall.as_str().to_owned()
}

/// One field in which two fingerprints differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDifference {
    /// Field name.
    pub field: &'static str,
    /// The baseline's value.
    pub baseline: String,
    /// The candidate's value.
    pub candidate: String,
}

impl Fingerprint {
    /// The fingerprint of a run's environment.
    pub fn of(env: &EnvironmentInfo) -> Fingerprint {
        let host_cpu = if env.host_cpu_model.is_empty() {
            // A guest-side summary the host has not completed yet, or an old host run.
            env.cpu_model.clone()
        } else {
            env.host_cpu_model.clone()
        };
        Fingerprint {
            kind: env.kind.clone(),
            kernel: env.kernel.clone(),
            accel: env.accel.clone().unwrap_or_else(|| "none".into()),
            cpu_model: env.cpu_model.clone(),
            host_cpu_model: host_cpu,
            cpus: env.cpus,
            // Another shift is another clock: 2^shift ns per instruction.
            clock: match env.icount_shift {
                Some(shift) => format!("{} (shift {shift})", env.clock.as_str()),
                None => env.clock.as_str().to_owned(),
            },
        }
    }

    /// Timings taken on the wall clock of an emulated CPU: on a shared host they measure
    /// the host's load as much as the pool, so the gate shows them and does not judge.
    pub fn is_emulated_wall_clock(&self) -> bool {
        self.accel == "tcg" && self.clock == TimingClock::Wall.as_str()
    }

    fn fields(&self) -> [(&'static str, String); 7] {
        [
            ("kind", self.kind.clone()),
            ("kernel", self.kernel.clone()),
            ("accel", self.accel.clone()),
            ("cpu_model", self.cpu_model.clone()),
            ("host_cpu_model", self.host_cpu_model.clone()),
            ("cpus", self.cpus.to_string()),
            ("clock", self.clock.clone()),
        ]
    }

    /// Fields in which `candidate` differs from `self` (the baseline), in field order.
    pub fn differences(&self, candidate: &Fingerprint) -> Vec<FieldDifference> {
        self.fields()
            .into_iter()
            .zip(candidate.fields())
            .filter(|((_, a), (_, b))| a != b)
            .map(|((field, a), (_, b))| FieldDifference {
                field,
                baseline: a,
                candidate: b,
            })
            .collect()
    }

    /// A directory name: readable (kind, kernel, accel, host CPU) and unique (a hash of
    /// every field, so fingerprints that differ only in the guest's CPU name still get
    /// their own directory).
    pub fn slug(&self) -> String {
        let readable = [
            self.kind.as_str(),
            &self.kernel,
            &self.accel,
            &self.host_cpu_model,
        ]
        .iter()
        .map(|f| sanitize(f))
        .filter(|f| !f.is_empty())
        .collect::<Vec<_>>()
        .join("_");
        let canonical = self
            .fields()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\n");
        format!("{readable}_{:08x}", fnv1a(canonical.as_bytes()) as u32)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} kernel {}, accel {}, cpu `{}` ×{}, host cpu `{}`, {} clock",
            self.kind,
            self.kernel,
            self.accel,
            self.cpu_model,
            self.cpus,
            self.host_cpu_model,
            self.clock
        )
    }
}

/// Lowercase ASCII letters, digits and `.`; runs of anything else become one `-`.
fn sanitize(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// FNV-1a, 64 bits: a stable hash (std's is randomised per process).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(accel: Option<&str>, cpu: &str, host: &str) -> EnvironmentInfo {
        EnvironmentInfo {
            kind: "vm".into(),
            kernel: "6.1.0-56-amd64".into(),
            accel: accel.map(str::to_owned),
            cpu_model: cpu.into(),
            host_cpu_model: host.into(),
            ..Default::default()
        }
    }

    #[test]
    fn slug_is_readable_stable_and_unique() {
        let a = Fingerprint::of(&env(Some("tcg"), "QEMU TCG CPU version 2.5+", "AMD EPYC"));
        assert!(
            a.slug().starts_with("vm_6.1.0-56-amd64_tcg_amd-epyc_"),
            "{}",
            a.slug()
        );
        assert_eq!(a.slug(), a.clone().slug());
        let b = Fingerprint::of(&env(Some("tcg"), "other guest cpu", "AMD EPYC"));
        assert_ne!(a.slug(), b.slug());
    }

    #[test]
    fn differences_name_each_field() {
        let a = Fingerprint::of(&env(Some("tcg"), "QEMU TCG CPU", "AMD EPYC"));
        let b = Fingerprint::of(&env(Some("kvm"), "AMD EPYC 7B13", "AMD EPYC"));
        let d = a.differences(&b);
        assert_eq!(
            d.iter().map(|d| d.field).collect::<Vec<_>>(),
            ["accel", "cpu_model"]
        );
        assert_eq!(
            (d[0].baseline.as_str(), d[0].candidate.as_str()),
            ("tcg", "kvm")
        );
        assert!(a.differences(&a).is_empty());
        // One vCPU and two are different machines under TCG.
        let two = Fingerprint::of(&EnvironmentInfo {
            cpus: 2,
            ..env(Some("tcg"), "QEMU TCG CPU", "AMD EPYC")
        });
        let one = Fingerprint {
            cpus: 1,
            ..two.clone()
        };
        let d = two.differences(&one);
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].field, d[0].baseline.as_str()), ("cpus", "2"));
        assert_ne!(two.slug(), one.slug());
        // A host run: no accelerator; an empty host CPU falls back to the kernel's view.
        let h = Fingerprint::of(&env(None, "Xeon", ""));
        assert_eq!(
            (h.accel.as_str(), h.host_cpu_model.as_str()),
            ("none", "Xeon")
        );
    }
}

//! What `validate` accepts, the run can do: scenarios drawn from the format's own grammar
//! (random steps of the actions the fake pool supports, with names, ids, sizes, regions
//! and expectations that are sometimes wrong), and every one `validate` accepts is run on
//! the fake pool. None may fail for a reason validation could have seen: a step error
//! (an id out of range or in use, a region past the thin's end, a thin not found, a chunk
//! rule…) or an expectation the step cannot observe ("n/a"). What only the kernel can
//! refuse is not here: the fake neither runs out of space nor has metadata.

use std::fmt::Write as _;

use super::run;

/// xorshift64*: small, seeded, enough to draw scenarios from.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.below(from.len() as u64) as usize]
    }
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// The thin names steps draw from: few, so that they collide and go stale.
const NAMES: [&str; 4] = ["a", "b", "c", "d"];

/// One scenario: a tiny pool of a random kind and chunk, and `steps` random steps.
struct Draw<'r> {
    rng: &'r mut Rng,
    /// Thins the generator believes live (it does not track ids, deletes or layers
    /// exactly: validation is what decides).
    live: Vec<String>,
    text: String,
}

impl Draw<'_> {
    /// A name of a live thin most of the time, any name otherwise.
    fn existing(&mut self) -> String {
        if !self.live.is_empty() && self.rng.chance(92) {
            self.rng.pick(&self.live).clone()
        } else {
            (*self.rng.pick(&NAMES)).to_owned()
        }
    }

    /// A name for a new thin, usually a free one.
    fn fresh(&mut self) -> String {
        let free: Vec<&str> = NAMES
            .iter()
            .copied()
            .filter(|n| !self.live.iter().any(|l| l == n))
            .collect();
        let n = if !free.is_empty() && self.rng.chance(85) {
            *self.rng.pick(&free)
        } else {
            *self.rng.pick(&NAMES)
        };
        n.to_owned()
    }

    fn id(&mut self) -> String {
        if self.rng.chance(25) {
            let id = self.rng.pick(&[0u32, 1, 2, 5, 16_777_215, 16_777_215]);
            format!("id = {id}\n")
        } else {
            String::new()
        }
    }

    fn size(&mut self) -> u64 {
        *self
            .rng
            .pick(&[MIB, 2 * MIB, 4 * MIB, 4 * MIB + 512, 16 * MIB])
    }

    /// A region `offset`/`span` in units of `unit`, mostly inside a thin of 1MiB or more.
    fn region(&mut self, unit: u64) -> String {
        let mut s = String::new();
        if self.rng.chance(50) {
            let units = self.rng.below(MIB / unit + 2);
            let _ = writeln!(s, "offset = {}", units * unit);
        }
        if self.rng.chance(40) {
            let units = 1 + self.rng.below(MIB / unit / 2);
            let _ = writeln!(s, "span = {}", units * unit);
        }
        s
    }

    /// An expectation now and then, which the action may not observe.
    fn expect(&mut self) -> String {
        if !self.rng.chance(25) {
            return String::new();
        }
        let line = self.rng.pick(&[
            "data_blocks_allocated = \"chunks-touched\"",
            "errors = 0",
            "first_error = \"EIO\"",
            "p50_at_least = \"0s\"",
            "mode = \"rw\"",
        ]);
        format!("[step.expect]\n{line}\n")
    }

    fn step(&mut self, index: usize) {
        let name = format!("s{index}");
        let mut s = format!("[[step]]\nname = \"{name}\"\n");
        // The first step makes a thin, or most scenarios would be about nothing.
        let action = if index == 0 { 0 } else { self.rng.below(10) };
        match action {
            0 | 1 => {
                let thin = self.fresh();
                let size = self.size();
                let id = self.id();
                let _ = write!(
                    s,
                    "action = \"create-thin\"\nthin = \"{thin}\"\nsize = {size}\n{id}"
                );
                self.live.push(thin);
            }
            2 => {
                let (thin, origin, id) = (self.fresh(), self.existing(), self.id());
                let _ = write!(
                    s,
                    "action = \"snapshot\"\nthin = \"{thin}\"\norigin = \"{origin}\"\n{id}"
                );
                self.live.push(thin);
            }
            3 => {
                let thin = self.existing();
                let _ = write!(s, "action = \"delete-thin\"\nthin = \"{thin}\"\n");
                self.live.retain(|l| *l != thin);
            }
            4 | 5 => {
                let thin = self.existing();
                let io = *self.rng.pick(&[512, 4 * KIB, 64 * KIB]);
                let region = self.region(io);
                let pattern = if self.rng.chance(50) {
                    "random"
                } else {
                    "sequential"
                };
                let count = 1 + self.rng.below(8);
                let _ = write!(
                    s,
                    "action = \"small-write\"\nthin = \"{thin}\"\nio_size = {io}\npattern = \"{pattern}\"\ncount = {count}\n{region}"
                );
            }
            6 => {
                let origin = self.existing();
                let depth = 1 + self.rng.below(3);
                let region = *self.rng.pick(&[128 * KIB, 256 * KIB, 1024 * KIB]);
                let offset = *self.rng.pick(&[0, 64 * KIB, MIB, 15 * MIB]);
                let io = *self.rng.pick(&[512, 4 * KIB, 32 * KIB]);
                let _ = write!(
                    s,
                    "action = \"cow-overwrite\"\norigin = \"{origin}\"\ndepth = {depth}\nregion = {region}\noffset = {offset}\nio_size = {io}\n"
                );
                for k in 1..=depth {
                    self.live.push(format!("{name}-{k}"));
                }
            }
            7 => {
                let thin = self.existing();
                let rw = *self.rng.pick(&["write", "randwrite", "read", "randread"]);
                let io = *self.rng.pick(&[4 * KIB, 64 * KIB]);
                let region = self.region(io);
                let (qd, jobs, count) = (
                    1 + self.rng.below(8),
                    1 + self.rng.below(2),
                    1 + self.rng.below(16),
                );
                let _ = write!(
                    s,
                    "action = \"io\"\nthin = \"{thin}\"\nrw = \"{rw}\"\nio_size = {io}\nqueue_depth = {qd}\njobs = {jobs}\ncount = {count}\n{region}"
                );
            }
            // Rarer: it is the slowest on the fake.
            8 if self.rng.chance(40) => {
                // Its snapshots take names and ids (the fake never runs out of metadata,
                // so it takes them all, and its check that the pool left rw fails).
                let thin = self.existing();
                let io = *self.rng.pick(&[4 * KIB, 48 * KIB, 64 * KIB]);
                let snapshots = 1 + self.rng.below(3);
                let _ = write!(
                    s,
                    "action = \"metadata-fill\"\nthin = \"{thin}\"\nspan = \"1MiB\"\nio_size = {io}\nstride = 1\nsnapshots = {snapshots}\n"
                );
            }
            _ => {
                let thin = self.existing();
                let action = *self.rng.pick(&["deferred-removal", "deferred-deletion"]);
                let _ = write!(
                    s,
                    "action = \"{action}\"\nthin = \"{thin}\"\nholder = \"fd\"\nhold = \"10ms\"\n"
                );
                if action == "deferred-deletion" {
                    s.push_str("retry_interval = \"10ms\"\n");
                }
                self.live.retain(|l| *l != thin);
            }
        }
        let expect = self.expect();
        s.push_str(&expect);
        self.text.push_str(&s);
    }
}

/// Scenario number `seed`: a pool, then 2 to 8 steps.
fn scenario(seed: u64) -> String {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let pool = if rng.chance(70) {
        let chunk = *rng.pick(&[64 * KIB, 128 * KIB, 256 * KIB, 512 * KIB]);
        format!(
            "kind = \"loop-lvm\"\ndata_size = \"64MiB\"\nmetadata_size = \"8MiB\"\nchunk_size = {chunk}\n"
        )
    } else {
        "kind = \"direct-lvm\"\ndevice = \"loop\"\ndevice_size = \"512MiB\"\n".to_owned()
    };
    let steps = 2 + rng.below(7) as usize;
    let mut d = Draw {
        rng: &mut rng,
        live: Vec::new(),
        text: format!("format = 1\nname = \"g{seed}\"\n[[pool]]\nname = \"p\"\n{pool}"),
    };
    for i in 0..steps {
        d.step(i);
    }
    d.text
}

fn accepted(toml: &str) -> bool {
    crate::scenario::load_scenario_str(std::path::Path::new("g.toml"), toml).is_ok()
}

#[test]
fn what_validate_accepts_runs_on_the_fake_without_a_planning_error() {
    const SCENARIOS: u64 = 32;
    let mut ran = 0;
    for seed in 0..SCENARIOS * 8 {
        if ran == SCENARIOS {
            break;
        }
        let toml = scenario(seed);
        if !accepted(&toml) {
            continue;
        }
        ran += 1;
        let r = run(&toml);
        for s in r.steps(0) {
            assert!(
                s.error.is_none(),
                "seed {seed}: step {} failed with {:?}\n{toml}",
                s.name,
                s.error
            );
            for e in &s.expectations {
                assert!(
                    !e.observed.contains("n/a"),
                    "seed {seed}: step {}: {} observed {:?}\n{toml}",
                    s.name,
                    e.what,
                    e.observed
                );
            }
        }
    }
    // The draw must give validation something to accept, or this proves nothing.
    assert_eq!(
        ran, SCENARIOS,
        "only {ran} of the drawn scenarios validated"
    );
}

#[test]
fn the_draw_also_gives_scenarios_validation_refuses() {
    let refused = (0..40).filter(|&s| !accepted(&scenario(s))).count();
    assert!(
        (4..36).contains(&refused),
        "{refused} of 40 refused: the draw should mix mistakes with valid steps"
    );
}

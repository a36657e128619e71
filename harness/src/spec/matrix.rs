//! The scenario matrix CI splits across runners: one entry per (scenario, pool), sorted
//! by scenario name, pool kind and pool name, so every runner computes the same matrix
//! whatever order its scenario files were given in. `--shard i/n` takes entries
//! i-1, i-1+n, i-1+2n, …: round robin, so the shards get pools of both kinds and
//! scenarios of every size rather than one shard all the slow ones.
//!
//! With several kernels (`run --kernel A --kernel B`) the kernel is an axis too: the
//! matrix is every entry on every kernel, entry by entry (`e1@A, e1@B, e2@A, …`), dealt
//! the same way ([`select_across`]), so a shard is a set of (scenario, pool, kernel)
//! triples. The gate still groups merged results by fingerprint, the kernel in it.

use std::fmt;
use std::str::FromStr;

use thinbench_schema::record::PoolKind;

use super::model::ScenarioSpec;

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Shard `index` of `count`, 1 ≤ index ≤ count.
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 {
            return Err("the shard count must be at least 1".into());
        }
        if index == 0 || index > count {
            return Err(format!(
                "shard {index}/{count}: the index counts from 1 to {count}"
            ));
        }
        Ok(Shard { index, count })
    }
    /// 1-based index.
    pub fn index(self) -> u32 {
        self.index
    }
    /// Number of shards.
    pub fn count(self) -> u32 {
        self.count
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not a shard: write I/N, like 2/4"))?;
        let num = |x: &str| {
            x.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{s}` is not a shard: write I/N, like 2/4"))
        };
        Shard::new(num(i)?, num(n)?)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// One entry of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixEntry {
    /// Scenario name.
    pub scenario: String,
    /// Pool kind.
    pub kind: PoolKind,
    /// Pool name.
    pub pool: String,
    /// Index of the plan it belongs to, in the order the plans were given.
    pub plan: usize,
}

/// Every (scenario, pool) of `plans`, sorted.
pub fn matrix(plans: &[ScenarioSpec]) -> Vec<MatrixEntry> {
    let mut m: Vec<MatrixEntry> = plans
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            p.pools.iter().map(move |pool| MatrixEntry {
                scenario: p.name.to_string(),
                kind: pool.kind.kind(),
                pool: pool.name.to_string(),
                plan: i,
            })
        })
        .collect();
    m.sort_by(|a, b| {
        (a.scenario.as_str(), a.kind.as_str(), a.pool.as_str()).cmp(&(
            b.scenario.as_str(),
            b.kind.as_str(),
            b.pool.as_str(),
        ))
    });
    m
}

/// The entries of `matrix` that fall in `shard`.
pub fn select(matrix: &[MatrixEntry], shard: Shard) -> Vec<MatrixEntry> {
    matrix
        .iter()
        .enumerate()
        .filter(|(j, _)| *j as u32 % shard.count == shard.index - 1)
        .map(|(_, e)| e.clone())
        .collect()
}

/// The (kernel index, entry) pairs of `matrix` × `kernels` kernels that fall in
/// `shard`, each entry's kernels side by side in the dealing order.
pub fn select_across(
    matrix: &[MatrixEntry],
    kernels: usize,
    shard: Shard,
) -> Vec<(usize, MatrixEntry)> {
    matrix
        .iter()
        .flat_map(|e| (0..kernels).map(move |k| (k, e)))
        .enumerate()
        .filter(|(j, _)| *j as u32 % shard.count == shard.index - 1)
        .map(|(_, (k, e))| (k, e.clone()))
        .collect()
}

impl ScenarioSpec {
    /// Keep only the pools named in `names`, in their scenario order; an unknown name is
    /// an error naming the pools there are.
    pub fn retain_pools(&mut self, names: &[String]) -> Result<(), String> {
        if let Some(bad) = names
            .iter()
            .find(|n| !self.pools.iter().any(|p| p.name.as_str() == n.as_str()))
        {
            return Err(format!(
                "scenario {} has no pool `{bad}` (it has: {})",
                self.name,
                self.pools
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        self.pools
            .retain(|p| names.iter().any(|n| n.as_str() == p.name.as_str()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_scenario_str;
    use std::path::Path;

    fn plan(name: &str, pools: &[(&str, &str)]) -> ScenarioSpec {
        let mut text = format!("format = 1\nname = \"{name}\"\n");
        for (p, kind) in pools {
            text.push_str(&format!("[[pool]]\nname = \"{p}\"\nkind = \"{kind}\"\n"));
            if *kind == "direct-lvm" {
                text.push_str("device = \"auto\"\n");
            }
        }
        text.push_str("[[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"1GiB\"\n");
        load_scenario_str(Path::new(&format!("{name}.toml")), &text)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn names(m: &[MatrixEntry]) -> Vec<String> {
        m.iter()
            .map(|e| format!("{}/{}", e.scenario, e.pool))
            .collect()
    }

    #[test]
    fn shards_parse_and_validate() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard::new(2, 4).unwrap()));
        assert_eq!(" 1 / 1 ".parse::<Shard>().unwrap().to_string(), "1/1");
        assert!("0/4"
            .parse::<Shard>()
            .unwrap_err()
            .contains("counts from 1"));
        assert!("5/4"
            .parse::<Shard>()
            .unwrap_err()
            .contains("counts from 1"));
        assert!("1/0".parse::<Shard>().unwrap_err().contains("at least 1"));
        assert!("2".parse::<Shard>().unwrap_err().contains("write I/N"));
        assert!("a/b".parse::<Shard>().unwrap_err().contains("write I/N"));
    }

    #[test]
    fn kernels_are_an_axis_dealt_with_the_entries() {
        let a = plan("smoke", &[("loop", "loop-lvm"), ("direct", "direct-lvm")]);
        let m = matrix(&[a]);
        let all: Vec<(usize, String)> = (1..=3)
            .flat_map(|i| select_across(&m, 2, Shard::new(i, 3).unwrap()))
            .map(|(k, e)| (k, e.pool))
            .collect();
        // 2 entries × 2 kernels, each exactly once over the shards.
        assert_eq!(all.len(), 4);
        for k in 0..2 {
            for p in ["loop", "direct"] {
                assert_eq!(all.iter().filter(|(x, y)| *x == k && y == p).count(), 1);
            }
        }
        // Shard 1/3 takes triples 0 and 3: direct on kernel 0, loop on kernel 1.
        let s1 = select_across(&m, 2, Shard::new(1, 3).unwrap());
        let s1: Vec<(usize, &str)> = s1.iter().map(|(k, e)| (*k, e.pool.as_str())).collect();
        assert_eq!(s1, [(0, "direct"), (1, "loop")]);
    }

    #[test]
    fn matrix_is_sorted_whatever_the_file_order() {
        let a = plan("smoke", &[("loop", "loop-lvm"), ("direct", "direct-lvm")]);
        let b = plan("cow", &[("l", "loop-lvm"), ("d", "direct-lvm")]);
        let m1 = matrix(&[a.clone(), b.clone()]);
        let m2 = matrix(&[b, a]);
        assert_eq!(names(&m1), names(&m2));
        // By scenario, then kind (direct-lvm before loop-lvm), then pool name.
        assert_eq!(names(&m1), ["cow/d", "cow/l", "smoke/direct", "smoke/loop"]);
        assert_eq!(m1[0].plan, 1, "index into the plans as given");
    }

    #[test]
    fn shards_partition_the_matrix() {
        let plans = [
            plan("a", &[("l", "loop-lvm"), ("d", "direct-lvm")]),
            plan("b", &[("l", "loop-lvm")]),
            plan(
                "c",
                &[("l", "loop-lvm"), ("d", "direct-lvm"), ("l2", "loop-lvm")],
            ),
        ];
        let m = matrix(&plans);
        for n in 1..=8u32 {
            let mut all: Vec<String> = Vec::new();
            let mut sizes = Vec::new();
            for i in 1..=n {
                let s = select(&m, Shard::new(i, n).unwrap());
                sizes.push(s.len());
                all.extend(names(&s));
            }
            all.sort();
            let mut want = names(&m);
            want.sort();
            assert_eq!(all, want, "every entry in exactly one of {n} shards");
            let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(hi - lo <= 1, "balanced: {sizes:?}");
        }
        // Round robin: shard 1 of 2 takes entries 0, 2, 4.
        assert_eq!(
            names(&select(&m, Shard::new(1, 2).unwrap())),
            ["a/d", "b/l", "c/l"]
        );
        assert_eq!(select(&m, Shard::new(7, 8).unwrap()).len(), 0);
    }

    #[test]
    fn retain_pools_keeps_order_and_names_unknown_pools() {
        let mut p = plan(
            "s",
            &[("a", "loop-lvm"), ("b", "direct-lvm"), ("c", "loop-lvm")],
        );
        p.retain_pools(&["c".into(), "a".into()]).unwrap();
        assert_eq!(
            p.pools.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["a", "c"]
        );
        let e = p.retain_pools(&["zz".into()]).unwrap_err();
        assert_eq!(e, "scenario s has no pool `zz` (it has: a, c)");
    }
}

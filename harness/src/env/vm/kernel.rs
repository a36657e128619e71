//! Finding the kernel the VM boots and the modules it needs.
//!
//! Default: Debian's `linux-image-amd64`, extracted (not installed) by `ci/setup.sh` into
//! `<cache>/kernel/` as `vmlinuz-<ver>` + `lib/modules/<ver>/` (with `depmod` run), so
//! the host's own /boot is never touched. `--kernel PATH --modules DIR` boots any build.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::errors::EnvError;

/// A bootable kernel and its module tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kernel {
    /// The bzImage.
    pub image: PathBuf,
    /// `.../lib/modules/<version>`, holding `modules.dep` and `modules.builtin`.
    pub modules_dir: PathBuf,
    /// Kernel release (`uname -r` in the guest).
    pub version: String,
}

/// Where thinbench keeps cached kernels, initramfs images and the accel probe.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("THINBENCH_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/thinbench"))
}

impl Kernel {
    /// An explicit kernel image and module directory (`--kernel`, `--modules`).
    pub fn explicit(image: &Path, modules_dir: &Path) -> Result<Kernel, EnvError> {
        if !image.is_file() {
            return Err(EnvError::Kernel(format!(
                "kernel image {} does not exist",
                image.display()
            )));
        }
        if !modules_dir.join("modules.dep").is_file() {
            return Err(EnvError::Kernel(format!(
                "{} has no modules.dep (pass the lib/modules/<version> directory of the kernel build; run `depmod -b <root> <version>` first)",
                modules_dir.display()
            )));
        }
        let version = modules_dir
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        Ok(Kernel {
            image: image.to_owned(),
            modules_dir: modules_dir.to_owned(),
            version,
        })
    }

    /// The default kernel: the newest in the cache's `kernel/` (what `ci/setup.sh`
    /// extracts; kernels fetched by name live in `kernels/` and are never the default),
    /// else the newest in /boot with modules in /lib/modules.
    pub fn discover() -> Result<Kernel, EnvError> {
        Self::discover_in(&[&cache_dir().join("kernel"), Path::new("/")])
    }

    /// The default kernel of the cache alone (not /boot).
    pub fn discover_cached() -> Result<Kernel, EnvError> {
        Self::discover_in(&[&cache_dir().join("kernel")])
    }

    fn discover_in(roots: &[&Path]) -> Result<Kernel, EnvError> {
        let cached = cache_dir().join("kernel");
        for &root in roots {
            let boot = if root == Path::new("/") {
                root.join("boot")
            } else {
                root.to_owned()
            };
            let Ok(entries) = fs::read_dir(&boot) else {
                continue;
            };
            let mut versions: Vec<String> = entries
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    e.file_name()
                        .to_str()?
                        .strip_prefix("vmlinuz-")
                        .map(str::to_owned)
                })
                .filter(|v| {
                    root.join("lib/modules")
                        .join(v)
                        .join("modules.dep")
                        .is_file()
                })
                .collect();
            versions.sort_by_key(|v| version_key(v));
            if let Some(v) = versions.pop() {
                return Ok(Kernel {
                    image: boot.join(format!("vmlinuz-{v}")),
                    modules_dir: root.join("lib/modules").join(&v),
                    version: v,
                });
            }
        }
        Err(EnvError::Kernel(format!(
            "no kernel for the VM: none in {} or /boot with modules; run `bash ci/setup.sh` (extracts Debian's linux-image-amd64 there) or pass --kernel PATH --modules DIR",
            cached.display()
        )))
    }
}

/// Numeric sort key of a kernel release (`6.1.0-9` before `6.1.0-10`).
pub fn version_key(v: &str) -> Vec<u64> {
    v.split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The module tree's dependency graph, from `modules.dep` and `modules.builtin`.
#[derive(Debug, Default)]
pub struct ModuleIndex {
    /// normalized name → (relative path, deps as normalized names)
    modules: BTreeMap<String, (PathBuf, Vec<String>)>,
    builtin: BTreeSet<String>,
}

/// `dm-thin-pool` and `dm_thin_pool` are the same module.
pub fn normalize(name: &str) -> String {
    name.trim_end_matches(".ko")
        .trim_end_matches(".ko.xz")
        .trim_end_matches(".ko.zst")
        .replace('-', "_")
}

fn module_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split(".ko").next().unwrap_or(file);
    normalize(stem)
}

impl ModuleIndex {
    /// Parse `modules.dep` (and `modules.builtin` when present) text.
    pub fn parse(dep: &str, builtin: &str) -> ModuleIndex {
        let mut modules = BTreeMap::new();
        for line in dep.lines() {
            let Some((path, deps)) = line.split_once(':') else {
                continue;
            };
            let deps = deps.split_whitespace().map(module_name).collect();
            modules.insert(module_name(path), (PathBuf::from(path), deps));
        }
        let builtin = builtin
            .lines()
            .filter(|l| !l.is_empty())
            .map(module_name)
            .collect();
        ModuleIndex { modules, builtin }
    }

    /// Load the index of a `lib/modules/<ver>` directory.
    pub fn load(dir: &Path) -> Result<ModuleIndex, EnvError> {
        let dep = fs::read_to_string(dir.join("modules.dep"))
            .map_err(|e| EnvError::Kernel(format!("reading {}/modules.dep: {e}", dir.display())))?;
        let builtin = fs::read_to_string(dir.join("modules.builtin")).unwrap_or_default();
        Ok(ModuleIndex::parse(&dep, &builtin))
    }

    /// Whether the kernel has this module built in.
    pub fn is_builtin(&self, name: &str) -> bool {
        self.builtin.contains(&normalize(name))
    }

    /// Whether the module exists (as a file or built in).
    pub fn has(&self, name: &str) -> bool {
        let n = normalize(name);
        self.modules.contains_key(&n) || self.builtin.contains(&n)
    }

    /// Module files to load for `wanted`, dependencies first, each once; built-in ones
    /// omitted. Names the first module that is neither a file nor built in.
    pub fn load_order(&self, wanted: &[&str]) -> Result<Vec<PathBuf>, String> {
        let mut order = Vec::new();
        let mut seen = BTreeSet::new();
        for w in wanted {
            self.visit(&normalize(w), &mut seen, &mut order)?;
        }
        Ok(order)
    }

    fn visit(
        &self,
        name: &str,
        seen: &mut BTreeSet<String>,
        order: &mut Vec<PathBuf>,
    ) -> Result<(), String> {
        if !seen.insert(name.to_owned()) {
            return Ok(());
        }
        match self.modules.get(name) {
            Some((path, deps)) => {
                // modules.dep lists deps nearest-first; load the farthest first.
                for d in deps.iter().rev() {
                    self.visit(d, seen, order)?;
                }
                order.push(path.clone());
                Ok(())
            }
            None if self.builtin.contains(name) => Ok(()),
            None => Err(format!(
                "module {name} is neither in modules.dep nor built in"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEP: &str = "kernel/drivers/md/dm-thin-pool.ko: kernel/drivers/md/persistent-data/dm-persistent-data.ko kernel/drivers/md/dm-bio-prison.ko kernel/drivers/md/dm-bufio.ko kernel/drivers/md/dm-mod.ko kernel/lib/libcrc32c.ko
kernel/drivers/md/persistent-data/dm-persistent-data.ko: kernel/drivers/md/dm-bufio.ko kernel/lib/libcrc32c.ko
kernel/drivers/md/dm-bio-prison.ko:
kernel/drivers/md/dm-bufio.ko:
kernel/drivers/md/dm-mod.ko:
kernel/lib/libcrc32c.ko:
kernel/drivers/block/loop.ko:
";

    #[test]
    fn resolves_dependencies_first_once() {
        let idx = ModuleIndex::parse(DEP, "kernel/fs/ext4/ext4.ko\n");
        let order = idx
            .load_order(&["dm-thin-pool", "loop", "dm_mod", "ext4"])
            .unwrap();
        let names: Vec<String> = order
            .iter()
            .map(|p| module_name(p.to_str().unwrap()))
            .collect();
        assert_eq!(
            names,
            [
                "libcrc32c",
                "dm_mod",
                "dm_bufio",
                "dm_bio_prison",
                "dm_persistent_data",
                "dm_thin_pool",
                "loop"
            ]
        );
        let pos = |n: &str| names.iter().position(|x| x == n).unwrap();
        assert!(pos("dm_bufio") < pos("dm_persistent_data"));
        assert!(idx.is_builtin("ext4") && idx.has("ext4"));
        assert!(idx
            .load_order(&["dm-dust"])
            .unwrap_err()
            .contains("dm_dust"));
    }

    #[test]
    fn version_ordering_is_numeric() {
        let mut v = [
            "6.1.0-9-amd64".to_owned(),
            "6.1.0-56-amd64".to_owned(),
            "6.1.0-10-amd64".to_owned(),
        ];
        v.sort_by_key(|x| version_key(x));
        assert_eq!(v.last().unwrap(), "6.1.0-56-amd64");
    }
}

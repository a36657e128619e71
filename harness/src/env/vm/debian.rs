//! Debian's kernels by name: `debian:6.12`, `debian:6.1.0-47`, `debian:latest`,
//! `debian:default` resolved against what apt offers, downloaded, extracted (never
//! installed: the host's /boot is not touched), `depmod`ed and cached once per version
//! under `<cache>/kernels/<version>/`, laid out as the default kernel is
//! (`vmlinuz-<v>`, `config-<v>`, `lib/modules/<v>/`).
//!
//! Names are matched as version prefixes that end at a separator: `6.1` is 6.1.0-N and
//! never 6.12.x; the newest match wins (numeric order). `default` is what the
//! `linux-image-amd64` metapackage points at (the kernel `ci/setup.sh` caches);
//! `latest` the newest version offered.

use std::fs;
use std::path::{Path, PathBuf};

use super::kernel::{cache_dir, version_key, Kernel};
use crate::errors::EnvError;
use crate::sys::command;

/// The metapackage the default kernel comes from.
const META: &str = "linux-image-amd64";

/// Kernel releases (`uname -r`) of the amd64 images in `names` (package names, one
/// per line as `apt-cache search` prints them): no metapackages (`6.12-amd64`),
/// debug, rt, cloud or unsigned builds.
pub fn releases_in(names: &str) -> Vec<String> {
    let mut v: Vec<String> = names
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|n| n.strip_prefix("linux-image-"))
        .filter(|r| r.ends_with("-amd64"))
        .filter(|r| {
            !["-dbg", "-rt-", "-cloud-", "-unsigned"]
                .iter()
                .any(|x| r.contains(x))
        })
        .filter(|r| {
            // A point release: digits.digits then more than `-amd64` (a metapackage
            // is `6.12-amd64`).
            let base = r.trim_end_matches("-amd64");
            base.contains(['-', '+']) && base.starts_with(|c: char| c.is_ascii_digit())
        })
        .map(str::to_owned)
        .collect();
    v.sort_by_key(|r| version_key(r));
    v.dedup();
    v
}

/// The release `name` means among `offered` (sorted oldest first); `default` is the
/// metapackage's. The error names what is offered.
pub fn pick(name: &str, offered: &[String], default: Option<&str>) -> Result<String, String> {
    let found = match name {
        "latest" => offered.last().cloned(),
        "default" => default.map(str::to_owned),
        _ => offered
            .iter()
            .rev()
            .find(|full| {
                let r = full.trim_end_matches("-amd64");
                r == name
                    || full.as_str() == name
                    || r.strip_prefix(name)
                        .is_some_and(|rest| rest.starts_with(['.', '-', '+']))
            })
            .cloned(),
    };
    found.ok_or_else(|| {
        if offered.is_empty() {
            format!("no Debian kernel matches `debian:{name}`: apt offers no linux-image-*-amd64 package here (is a Debian archive in /etc/apt/sources.list?)")
        } else {
            format!(
                "no Debian kernel matches `debian:{name}`: apt offers {} (`debian:<version prefix>`, `debian:latest` or `debian:default`)",
                summarize(offered)
            )
        }
    })
}

/// `6.1.0-47 … 6.1.0-57 (11), 6.12.100+deb12 … 6.12.117+deb12 (7)`: releases grouped by
/// their major.minor.
fn summarize(offered: &[String]) -> String {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for r in offered {
        let r = r.trim_end_matches("-amd64");
        let series: String = r.split('.').take(2).collect::<Vec<_>>().join(".");
        let series = series.split(['-', '+']).next().unwrap_or("").to_owned();
        match groups.last_mut() {
            Some((s, v)) if *s == series => v.push(r),
            _ => groups.push((series, vec![r])),
        }
    }
    groups
        .iter()
        .map(|(_, v)| match v.as_slice() {
            [one] => (*one).to_owned(),
            [first, .., last] => format!("{first} … {last} ({})", v.len()),
            [] => String::new(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where Debian kernels fetched by name are cached.
pub fn kernels_dir() -> PathBuf {
    cache_dir().join("kernels")
}

/// The cached kernel of `release` (in `kernels/` or as the default in `kernel/`).
fn cached(release: &str) -> Option<Kernel> {
    let named = kernels_dir().join(release);
    for dir in [named.as_path(), &cache_dir().join("kernel")] {
        let image = dir.join(format!("vmlinuz-{release}"));
        let modules = dir.join("lib/modules").join(release);
        if image.is_file() && modules.join("modules.dep").is_file() {
            return Kernel::explicit(&image, &modules).ok();
        }
    }
    None
}

/// Every kernel in the cache: the default one and those fetched by name, oldest first.
pub fn cached_kernels() -> Vec<Kernel> {
    let mut out: Vec<Kernel> = Vec::new();
    if let Ok(k) = Kernel::discover_cached() {
        out.push(k);
    }
    if let Ok(entries) = fs::read_dir(kernels_dir()) {
        for e in entries.filter_map(|e| e.ok()) {
            let Some(r) = e.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if let Some(k) = cached(&r) {
                if !out.iter().any(|o| o.version == k.version) {
                    out.push(k);
                }
            }
        }
    }
    out.sort_by_key(|k| version_key(&k.version));
    out
}

/// What apt offers: (releases, the metapackage's release). Reads the package lists,
/// running `apt-get update` once when there are none (a fresh machine).
fn offered() -> Result<(Vec<String>, Option<String>), EnvError> {
    let search = || {
        command::run(
            "apt-cache",
            &["search", "--names-only", "^linux-image-[0-9].*-amd64$"],
        )
        .map(|s| releases_in(&s))
    };
    let mut releases = search().unwrap_or_default();
    if releases.is_empty() {
        command::run("apt-get", &["update", "-qq"]).map_err(|e| {
            EnvError::Kernel(format!("apt-get update (to find Debian's kernels): {e}"))
        })?;
        releases = search().map_err(|e| EnvError::Kernel(format!("apt-cache search: {e}")))?;
    }
    let default = command::run("apt-cache", &["depends", META])
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.trim()
                    .strip_prefix("Depends: linux-image-")
                    .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
                    .map(str::to_owned)
            })
        });
    Ok((releases, default))
}

/// The kernel `debian:<name>` means, fetched into the cache if it is not there yet.
/// Without apt's lists (offline), a cached kernel that matches still serves.
pub fn resolve(name: &str) -> Result<Kernel, EnvError> {
    let (releases, default) = match offered() {
        Ok(o) => o,
        Err(e) => {
            let cached: Vec<String> = cached_kernels().into_iter().map(|k| k.version).collect();
            let r = pick(name, &cached, None).map_err(|_| e)?;
            return cached_or_fetch(&r);
        }
    };
    let release = pick(name, &releases, default.as_deref()).map_err(EnvError::Kernel)?;
    cached_or_fetch(&release)
}

fn cached_or_fetch(release: &str) -> Result<Kernel, EnvError> {
    match cached(release) {
        Some(k) => Ok(k),
        None => fetch(release),
    }
}

/// Download `linux-image-<release>`, extract it, depmod, and move it into the cache in
/// one rename (a half-extracted kernel is never seen; two runs fetching at once both
/// succeed, the second rename losing to the first).
fn fetch(release: &str) -> Result<Kernel, EnvError> {
    let root = kernels_dir();
    fs::create_dir_all(&root).map_err(|e| EnvError::io(&root, e))?;
    let tmp = root.join(format!(".fetch-{release}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let result = fetch_into(release, &tmp);
    let done = result.and_then(|()| {
        let dest = root.join(release);
        match fs::rename(tmp.join("cache"), &dest) {
            Ok(()) => Ok(()),
            Err(_) if cached(release).is_some() => Ok(()),
            Err(e) => Err(EnvError::io(&dest, e)),
        }
    });
    let _ = fs::remove_dir_all(&tmp);
    done?;
    eprintln!(
        "thinbench: kernel {release} cached in {}",
        root.join(release).display()
    );
    cached(release).ok_or_else(|| {
        EnvError::Kernel(format!(
            "kernel {release} was extracted but its image or modules.dep is missing in {}",
            root.join(release).display()
        ))
    })
}

fn fetch_into(release: &str, tmp: &Path) -> Result<(), EnvError> {
    let dl = tmp.join("deb");
    let x = tmp.join("x");
    let cache = tmp.join("cache");
    for d in [&dl, &x, &cache.join("lib/modules")] {
        fs::create_dir_all(d).map_err(|e| EnvError::io(d, e))?;
    }
    let pkg = format!("linux-image-{release}");
    eprintln!("thinbench: fetching Debian's {pkg} (once; cached for later runs)");
    let out = std::process::Command::new("apt-get")
        .args(["download", "-qq", &pkg])
        .current_dir(&dl)
        .output()
        .map_err(|e| EnvError::Kernel(format!("apt-get download {pkg}: {e}")))?;
    if !out.status.success() {
        return Err(EnvError::Kernel(format!(
            "apt-get download {pkg} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let deb = fs::read_dir(&dl)
        .map_err(|e| EnvError::io(&dl, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or_else(|| EnvError::Kernel(format!("apt-get download {pkg} left no .deb")))?;
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let err = |what: &str, e: crate::errors::CommandError| {
        EnvError::Kernel(format!("{what} for {pkg}: {e}"))
    };
    command::run("dpkg-deb", &["-x", &s(&deb), &s(&x)]).map_err(|e| err("dpkg-deb -x", e))?;
    command::run("depmod", &["-b", &s(&x), release]).map_err(|e| err("depmod", e))?;
    let mv =
        |from: PathBuf, to: PathBuf| fs::rename(&from, &to).map_err(|e| EnvError::io(&from, e));
    mv(
        x.join("lib/modules").join(release),
        cache.join("lib/modules").join(release),
    )?;
    let config = x.join(format!("boot/config-{release}"));
    if config.is_file() {
        mv(config, cache.join(format!("config-{release}")))?;
    }
    mv(
        x.join(format!("boot/vmlinuz-{release}")),
        cache.join(format!("vmlinuz-{release}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const APT: &str = "linux-image-6.1.0-47-amd64 - Linux 6.1 for 64-bit PCs (signed)
linux-image-6.1.0-57-amd64 - Linux 6.1 for 64-bit PCs (signed)
linux-image-6.1.0-9-amd64 - Linux 6.1 for 64-bit PCs (signed)
linux-image-6.1.0-57-amd64-dbg - Debug symbols for linux-image-6.1.0-57-amd64
linux-image-6.1.0-57-rt-amd64 - Linux 6.1 for 64-bit PCs, PREEMPT_RT
linux-image-6.1.0-57-cloud-amd64 - Linux 6.1 for x86-64 cloud
linux-image-6.12-amd64 - Linux for 64-bit PCs (meta-package)
linux-image-6.12.100+deb12-amd64 - Linux 6.12 for 64-bit PCs (signed)
linux-image-6.12.117+deb12-amd64 - Linux 6.12 for 64-bit PCs (signed)
linux-image-6.12.117+deb12-amd64-unsigned - Linux 6.12 for 64-bit PCs
";

    fn offered() -> Vec<String> {
        releases_in(APT)
    }

    #[test]
    fn releases_are_point_releases_in_numeric_order() {
        assert_eq!(
            offered(),
            [
                "6.1.0-9-amd64",
                "6.1.0-47-amd64",
                "6.1.0-57-amd64",
                "6.12.100+deb12-amd64",
                "6.12.117+deb12-amd64"
            ]
        );
    }

    #[test]
    fn names_are_prefixes_ending_at_a_separator() {
        let o = offered();
        let p = |n: &str| pick(n, &o, Some("6.1.0-57-amd64"));
        assert_eq!(p("6.1").unwrap(), "6.1.0-57-amd64");
        assert_eq!(p("6.1.0-47").unwrap(), "6.1.0-47-amd64");
        assert_eq!(p("6.1.0-47-amd64").unwrap(), "6.1.0-47-amd64");
        assert_eq!(p("6.12").unwrap(), "6.12.117+deb12-amd64");
        assert_eq!(p("6.12.100").unwrap(), "6.12.100+deb12-amd64");
        assert_eq!(p("latest").unwrap(), "6.12.117+deb12-amd64");
        assert_eq!(p("default").unwrap(), "6.1.0-57-amd64");
        // 6.1.0-4 is not 6.1.0-47.
        let e = p("6.1.0-4").unwrap_err();
        assert!(
            e.contains("no Debian kernel matches `debian:6.1.0-4`"),
            "{e}"
        );
        assert!(
            e.contains("6.1.0-9 … 6.1.0-57 (3), 6.12.100+deb12 … 6.12.117+deb12 (2)"),
            "{e}"
        );
        assert!(pick("6.3", &[], None).unwrap_err().contains("offers no"));
    }
}

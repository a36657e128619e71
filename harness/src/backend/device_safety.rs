//! Whether a block device named in a scenario may be given to lvm (direct-lvm's PV).
//! thinbench runs as root and `pvcreate` destroys what was there, so a device is refused
//! when it is in use — mounted (any partition), swap, held by another device (dm, md, a
//! partition mapping), or holding the root or boot filesystem — and, unless
//! `--force-device` is given (Docker's `dm.directlvm_device_force`), when it carries a
//! filesystem, partition table or LVM signature. Being in use is never overridable.
//!
//! Facts are gathered from the system (`stat`, sysfs, `/proc/self/mountinfo`,
//! `/proc/swaps`, `blkid -p`, `lvm pvs`) into [`DeviceFacts`]; [`judge`] is pure, so every
//! refusal is unit-tested, and a VM test exercises each on real loop devices.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A device and its partitions, as `major:minor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Kernel name (`sdb`, `sdb1`, `loop3`).
    pub name: String,
    /// `major:minor`.
    pub devno: String,
}

/// What is known about a device before it is used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceFacts {
    /// The path as given.
    pub path: PathBuf,
    /// The device itself, then its partitions.
    pub nodes: Vec<Node>,
    /// Devices stacked on it or on a partition (`/sys/.../holders`).
    pub holders: Vec<String>,
    /// `blkid -p` of the whole device: `TYPE` / `PTTYPE`, if any.
    pub signature: Option<String>,
    /// The volume group it belongs to, if it is an LVM PV in one.
    pub vg: Option<String>,
}

/// Why a device is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refusing {device}: {reason}")]
pub struct Refusal {
    /// The device as given.
    pub device: String,
    /// What is wrong, and what to do.
    pub reason: String,
    /// `--force-device` would allow it.
    pub forcible: bool,
}

fn sysfs_dir(devno: &str) -> PathBuf {
    PathBuf::from("/sys/dev/block").join(devno)
}

fn read_trim(p: &Path) -> Option<String> {
    fs::read_to_string(p).ok().map(|s| s.trim().to_owned())
}

/// Gather the facts about `dev` from the running system.
pub fn facts(dev: &Path) -> Result<DeviceFacts, Refusal> {
    let refuse = |reason: String| Refusal {
        device: dev.display().to_string(),
        reason,
        forcible: false,
    };
    let meta = fs::metadata(dev).map_err(|e| refuse(format!("cannot stat it: {e}")))?;
    if !meta.file_type().is_block_device() {
        return Err(refuse("not a block device".into()));
    }
    let rdev = meta.rdev();
    let devno = format!("{}:{}", libc::major(rdev), libc::minor(rdev));
    let dir = sysfs_dir(&devno);
    let name = fs::canonicalize(&dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| devno.clone());
    if dir.join("partition").exists() {
        return Err(refuse(format!(
            "{name} is a partition; give thinbench a whole disk, as Docker's direct-lvm set-up did"
        )));
    }
    let mut f = DeviceFacts {
        path: dev.to_owned(),
        nodes: vec![Node {
            name,
            devno: devno.clone(),
        }],
        ..DeviceFacts::default()
    };
    // Partitions are subdirectories with a `partition` file.
    if let Ok(rd) = fs::read_dir(&dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.join("partition").exists() {
                if let Some(d) = read_trim(&p.join("dev")) {
                    f.nodes.push(Node {
                        name: e.file_name().to_string_lossy().into_owned(),
                        devno: d,
                    });
                }
            }
        }
    }
    for n in &f.nodes {
        if let Ok(rd) = fs::read_dir(sysfs_dir(&n.devno).join("holders")) {
            for h in rd.flatten() {
                let h = h.file_name().to_string_lossy().into_owned();
                // dm-N is more useful with its dm name.
                let label = read_trim(&PathBuf::from("/sys/class/block").join(&h).join("dm/name"))
                    .map(|dm| format!("{h} ({dm})"))
                    .unwrap_or(h);
                f.holders.push(format!("{} <- {label}", n.name));
            }
        }
    }
    f.signature = blkid_signature(dev);
    if f.signature.as_deref() == Some("LVM2_member") {
        f.vg = pv_vg(dev);
    }
    Ok(f)
}

/// `TYPE` (filesystem, swap, LVM2_member, ...) or `PTTYPE` (partition table) found by a
/// low-level probe of the device itself (not the blkid cache).
fn blkid_signature(dev: &Path) -> Option<String> {
    let out = Command::new("blkid")
        .args(["-p", "-o", "export"])
        .arg(dev)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.to_owned())
    };
    get("TYPE=").or_else(|| get("PTTYPE=").map(|t| format!("{t} partition table")))
}

/// The VG of an LVM PV, asked of lvm with only this device in view.
fn pv_vg(dev: &Path) -> Option<String> {
    let d = dev.to_string_lossy();
    let out = Command::new("lvm")
        .args(["pvs", "--noheadings", "-o", "vg_name", "--devices", &d, &d])
        .envs(crate::sys::host_services::dm_tool_env().iter().copied())
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let vg = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (!vg.is_empty()).then_some(vg)
}

/// Mount points of `devno` in a mountinfo text (field 3 is `major:minor`, field 5 the
/// mount point).
pub fn mount_points(mountinfo: &str, devno: &str) -> Vec<String> {
    mountinfo
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            (w.len() > 4 && w[2] == devno).then(|| w[4].replace("\\040", " "))
        })
        .collect()
}

/// Swap devices in a `/proc/swaps` text, by path.
fn swap_paths(swaps: &str) -> Vec<PathBuf> {
    swaps
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .map(PathBuf::from)
        .collect()
}

/// Decide on `f`, given the mount table and swap list; `force` overrides signatures only.
pub fn judge(
    f: &DeviceFacts,
    mountinfo: &str,
    swaps: &str,
    swap_devnos: &[String],
    force: bool,
) -> Result<(), Refusal> {
    let device = f.path.display().to_string();
    let never = |reason: String| {
        Err(Refusal {
            device: device.clone(),
            reason,
            forcible: false,
        })
    };
    for n in &f.nodes {
        let at = mount_points(mountinfo, &n.devno);
        if let Some(sys) = at
            .iter()
            .find(|m| matches!(m.as_str(), "/" | "/boot" | "/boot/efi" | "/usr"))
        {
            return never(format!("{} holds the system's {sys} filesystem", n.name));
        }
        if let Some(m) = at.first() {
            return never(format!("{} is mounted at {m}", n.name));
        }
        if swap_devnos.contains(&n.devno) {
            return never(format!("{} is in use as swap", n.name));
        }
    }
    if swap_paths(swaps).iter().any(|p| p == &f.path) {
        return never(format!("{} is in use as swap", f.path.display()));
    }
    if !f.holders.is_empty() {
        return never(format!(
            "other devices are stacked on it ({}); it is in use",
            f.holders.join(", ")
        ));
    }
    if force {
        return Ok(());
    }
    let forcible = |reason: String| {
        Err(Refusal {
            device: device.clone(),
            reason: format!(
                "{reason}; pvcreate would destroy it. Pass --force-device to overwrite it"
            ),
            forcible: true,
        })
    };
    if let Some(vg) = &f.vg {
        return forcible(format!("it is an LVM physical volume of volume group {vg}"));
    }
    if f.nodes.len() > 1 {
        let parts: Vec<&str> = f.nodes[1..].iter().map(|n| n.name.as_str()).collect();
        return forcible(format!("it has partitions ({})", parts.join(", ")));
    }
    if let Some(sig) = &f.signature {
        return forcible(format!("it carries a {sig} signature"));
    }
    Ok(())
}

/// Check `dev` on the running system.
pub fn check(dev: &Path, force: bool) -> Result<(), Refusal> {
    let f = facts(dev)?;
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let swaps = fs::read_to_string("/proc/swaps").unwrap_or_default();
    // Swap files and devices by devno, so a symlinked path is recognised too.
    let swap_devnos: Vec<String> = swap_paths(&swaps)
        .iter()
        .filter_map(|p| fs::metadata(p).ok())
        .filter(|m| m.file_type().is_block_device())
        .map(|m| format!("{}:{}", libc::major(m.rdev()), libc::minor(m.rdev())))
        .collect();
    judge(&f, &mountinfo, &swaps, &swap_devnos, force)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw
23 22 8:1 / /boot rw,relatime shared:2 - vfat /dev/sda1 rw
40 22 7:3 / /mnt/my\\040data rw,relatime shared:3 - ext4 /dev/loop3 rw
";

    fn disk(name: &str, devno: &str) -> DeviceFacts {
        DeviceFacts {
            path: PathBuf::from(format!("/dev/{name}")),
            nodes: vec![Node {
                name: name.into(),
                devno: devno.into(),
            }],
            ..DeviceFacts::default()
        }
    }

    fn refused(f: &DeviceFacts, force: bool) -> Refusal {
        judge(
            f,
            MOUNTINFO,
            "Filename Type Size Used Priority\n",
            &[],
            force,
        )
        .unwrap_err()
    }

    #[test]
    fn a_blank_disk_is_accepted() {
        assert_eq!(
            judge(&disk("sdc", "8:32"), MOUNTINFO, "", &[], false),
            Ok(())
        );
    }

    #[test]
    fn mounted_root_boot_and_swap_are_never_accepted() {
        let mut sda = disk("sda", "8:0");
        sda.nodes.push(Node {
            name: "sda2".into(),
            devno: "8:2".into(),
        });
        let r = refused(&sda, true);
        assert_eq!(r.reason, "sda2 holds the system's / filesystem");
        assert!(!r.forcible);
        let r = refused(&disk("loop3", "7:3"), true);
        assert_eq!(r.reason, "loop3 is mounted at /mnt/my data");
        assert_eq!(
            r.to_string(),
            "refusing /dev/loop3: loop3 is mounted at /mnt/my data"
        );
        let r = judge(&disk("sdd", "8:48"), "", "", &["8:48".into()], true).unwrap_err();
        assert_eq!(r.reason, "sdd is in use as swap");
    }

    #[test]
    fn holders_are_never_accepted() {
        let mut f = disk("loop4", "7:4");
        f.holders = vec!["loop4 <- dm-0 (other)".into()];
        let r = refused(&f, true);
        assert!(r.reason.contains("loop4 <- dm-0 (other)"), "{}", r.reason);
        assert!(!r.forcible);
    }

    #[test]
    fn signatures_partitions_and_vgs_need_force() {
        let mut f = disk("loop5", "7:5");
        f.signature = Some("xfs".into());
        let r = refused(&f, false);
        assert!(
            r.reason.starts_with("it carries a xfs signature"),
            "{}",
            r.reason
        );
        assert!(r.reason.contains("--force-device") && r.forcible);
        assert_eq!(judge(&f, MOUNTINFO, "", &[], true), Ok(()));

        f.signature = Some("LVM2_member".into());
        f.vg = Some("vg0".into());
        assert!(refused(&f, false).reason.contains("volume group vg0"));

        let mut p = disk("sdc", "8:32");
        p.signature = Some("gpt partition table".into());
        p.nodes.push(Node {
            name: "sdc1".into(),
            devno: "8:33".into(),
        });
        assert!(refused(&p, false).reason.contains("partitions (sdc1)"));
    }
}

//! A guest that is a real host: systemd-udevd and lvm's dmeventd started from the shared
//! host root (`--services udev,dmeventd`), as users have them, instead of the minimal
//! guest's none. The guest's runs are `thinbench run --env host` as on any machine; what
//! they find running decides how they work (`sys::host_services`).
//!
//! The guest's `/etc` gets a RAM overlay first: dmeventd's lvm reads the autoextend
//! profile from `/etc/lvm/profile`, where a monitored run installs it, and what the guest
//! writes there must stay in the guest (the host root is shared read-only). `/var/tmp`,
//! a host's scratch space, is a tmpfs.

use std::path::Path;

use crate::errors::EnvError;
use crate::sys::command;

/// systemd-udevd's path in Debian's `udev` package.
pub const UDEVD: &str = "/lib/systemd/systemd-udevd";
/// Where the guest's dmeventd logs (`-f -l`: foreground, to stderr), copied beside each
/// run's results as [`DMEVENTD_LOG`].
const GUEST_DMEVENTD_LOG: &str = "/run/thinbench/dmeventd.log";
/// dmeventd's log in a run's results directory.
pub const DMEVENTD_LOG: &str = "dmeventd.log";
/// `dmsetup udevcookies` after a run, in its results directory: a cookie left there is a
/// device-mapper operation nobody finished waiting for.
pub const UDEV_COOKIES: &str = "udev-cookies.txt";

/// Which of the real host's services the guest starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuestServices {
    /// systemd-udevd.
    pub udev: bool,
    /// dmeventd (and so `--dmeventd` for the guest's runs).
    pub dmeventd: bool,
}

impl GuestServices {
    /// From `--services udev,dmeventd` (each once; `host` is both).
    pub fn parse(names: &[String]) -> Result<GuestServices, String> {
        let mut s = GuestServices::default();
        for n in names.iter().flat_map(|n| n.split(',')).map(str::trim) {
            let slot = match n {
                "udev" => &mut s.udev,
                "dmeventd" => &mut s.dmeventd,
                "host" => {
                    s.udev = true;
                    s.dmeventd = true;
                    continue;
                }
                other => {
                    return Err(format!(
                        "unknown service `{other}`: the guest can start `udev`, `dmeventd` (or `host`: both)"
                    ))
                }
            };
            *slot = true;
        }
        Ok(s)
    }

    /// Whether any service is asked for.
    pub fn any(self) -> bool {
        self.udev || self.dmeventd
    }

    /// What the guest starts them from must be on the host root it shares.
    pub fn check_installed(self) -> Result<(), EnvError> {
        let missing = |what: &str, pkg: &str| EnvError::Missing {
            what: what.into(),
            install: format!("apt-get install -y --no-install-recommends {pkg} (ci/setup.sh does)"),
        };
        if self.udev && !(Path::new(UDEVD).exists() && command::exists("udevadm")) {
            return Err(missing("systemd-udevd and udevadm", "udev"));
        }
        if self.dmeventd && !command::exists("dmeventd") {
            return Err(missing("dmeventd", "dmeventd"));
        }
        Ok(())
    }

    /// Guest shell that starts the services, before the first run.
    pub fn start_script(self) -> String {
        if !self.any() {
            return String::new();
        }
        let say = |m: &str| format!("echo \"thinbench-guest: services: {m}\" > /dev/ttyS0\n");
        let mut s = String::from(
            "mkdir -p /run/thinbench/etc/u /run/thinbench/etc/w\n\
             mount -t overlay -o lowerdir=/etc,upperdir=/run/thinbench/etc/u,workdir=/run/thinbench/etc/w etc /etc || ",
        );
        s.push_str(&say("no RAM overlay on /etc: /etc is read-only"));
        // A host's scratch space (`--env host` runs' work directories), in guest RAM.
        s.push_str("mount -t tmpfs -o mode=1777 vartmp /var/tmp || ");
        s.push_str(&say("no tmpfs on /var/tmp"));
        if self.udev {
            // udevadm refuses to trigger in a chroot unless told it is meant; the guest's
            // job runs in one (the host root under the initramfs).
            s.push_str(&format!(
                "unset DM_DISABLE_UDEV\nexport SYSTEMD_IGNORE_CHROOT=1\n\
                 {UDEVD} --daemon --resolve-names=never || "
            ));
            s.push_str(&say("systemd-udevd did not start"));
            s.push_str(
                "udevadm trigger --type=subsystems --action=add\n\
                 udevadm trigger --type=devices --action=add\n\
                 udevadm settle --timeout=60 || ",
            );
            s.push_str(&say("udevadm settle timed out"));
        }
        if self.dmeventd {
            s.push_str(&format!(
                "dmeventd -f -l > {GUEST_DMEVENTD_LOG} 2>&1 &\n\
                 i=0; while [ ! -s /run/dmeventd.pid ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n\
                 [ -s /run/dmeventd.pid ] || "
            ));
            s.push_str(&say("dmeventd did not start"));
        }
        s.push_str(&format!(
            "echo \"thinbench-guest: services: udev={} dmeventd={} uptime=$(cut -d' ' -f1 /proc/uptime)\" > /dev/ttyS0\n",
            u8::from(self.udev),
            u8::from(self.dmeventd)
        ));
        s
    }

    /// Guest shell after each run: the services' evidence into its results directory
    /// (`out`, already shell-quoted).
    pub fn after_run_script(self, quote: impl Fn(&Path) -> String, out: &Path) -> String {
        let mut s = String::new();
        if self.dmeventd {
            s.push_str(&format!(
                "cp {GUEST_DMEVENTD_LOG} {} 2>/dev/null\n",
                quote(&out.join(DMEVENTD_LOG))
            ));
        }
        if self.udev {
            s.push_str(&format!(
                "dmsetup udevcookies > {} 2>&1\n",
                quote(&out.join(UDEV_COOKIES))
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Result<GuestServices, String> {
        GuestServices::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn services_are_named_in_a_list() {
        assert_eq!(parse(&[]).unwrap(), GuestServices::default());
        let both = GuestServices {
            udev: true,
            dmeventd: true,
        };
        assert_eq!(parse(&["udev,dmeventd"]).unwrap(), both);
        assert_eq!(parse(&["udev", "dmeventd"]).unwrap(), both);
        assert_eq!(parse(&["host"]).unwrap(), both);
        assert!(!parse(&["udev"]).unwrap().dmeventd);
        assert!(parse(&["systemd"])
            .unwrap_err()
            .contains("`udev`, `dmeventd`"));
    }

    #[test]
    fn the_script_starts_what_is_asked_and_keeps_etc_in_the_guest() {
        assert_eq!(GuestServices::default().start_script(), "");
        let s = parse(&["dmeventd"]).unwrap().start_script();
        assert!(s.contains("lowerdir=/etc,upperdir=/run/thinbench/etc/u"));
        assert!(s.contains("dmeventd -f -l"));
        assert!(!s.contains("udevd"));
        // Without udev, lvm must keep bypassing it.
        assert!(!s.contains("unset DM_DISABLE_UDEV"));
        let s = parse(&["udev"]).unwrap().start_script();
        assert!(s.contains("unset DM_DISABLE_UDEV"));
        assert!(s.contains("udevadm settle"));
    }
}

//! Kernel modules a run needs, loaded when it needs them.
//!
//! In thinbench's VM the initramfs packs every module but loads only what every run uses
//! (virtio, 9p, loop, dm-thin, ext4 for the work disk); xfs and the fault targets wait
//! here until a step asks, so a boot pays for nothing it does not use. The packed files
//! are bind-mounted at [`GUEST_MODULES_DIR`] with a `lazy` list of each one's load order.
//! Elsewhere (a host kernel) `modprobe` does the work.

use std::fs;
use std::path::Path;

use crate::sys::command;

/// Where the VM's init puts the packed modules inside the guest's root, with `lazy`
/// listing each on-demand module's files in load order (`name a.ko b.ko ...`).
pub const GUEST_MODULES_DIR: &str = "/run/thinbench/modules";

/// Make sure module `name` (`xfs`, `dm_flakey`, ...) is loaded. An error says why not;
/// callers that probe a capability afterwards may ignore it.
pub fn ensure(name: &str) -> Result<(), String> {
    let name = name.replace('-', "_");
    if loaded(&name) {
        return Ok(());
    }
    let dir = Path::new(GUEST_MODULES_DIR);
    match fs::read_to_string(dir.join("lazy")) {
        Ok(list) => {
            let files = list
                .lines()
                .find_map(|l| {
                    let mut w = l.split_whitespace();
                    (w.next() == Some(name.as_str())).then(|| w.collect::<Vec<_>>())
                })
                .ok_or_else(|| format!("module {name} is not in this kernel"))?;
            for f in files {
                let module = f.split(".ko").next().unwrap_or(f).replace('-', "_");
                if !loaded(&module) {
                    insmod(&dir.join(f))?;
                }
            }
            Ok(())
        }
        Err(_) => command::run("modprobe", &[&name])
            .map(|_| ())
            .map_err(|e| e.to_string()),
    }
}

/// Whether `module` is loaded and initialised. One still coming up (loaded by the init's
/// background loop at this moment) is waited for, up to 60 s.
fn loaded(module: &str) -> bool {
    let state = Path::new("/sys/module").join(module).join("initstate");
    for _ in 0..600 {
        match fs::read_to_string(&state) {
            Ok(s) if s.trim() == "live" => return true,
            Ok(s) if s.trim() == "coming" => {
                std::thread::sleep(std::time::Duration::from_millis(100))
            }
            Ok(_) => return false, // going away
            // Built in (no initstate) or not loaded.
            Err(_) => {
                return Path::new("/sys/module").join(module).is_dir()
                    && !Path::new("/sys/module")
                        .join(module)
                        .join("refcnt")
                        .exists()
            }
        }
    }
    false
}

fn insmod(path: &Path) -> Result<(), String> {
    let f = fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    match nix::kmod::finit_module(&f, c"", nix::kmod::ModuleInitFlags::empty()) {
        // Loaded meanwhile by someone else: what we wanted.
        Ok(()) | Err(nix::errno::Errno::EEXIST) => Ok(()),
        Err(e) => Err(format!("loading {}: {e}", path.display())),
    }
}

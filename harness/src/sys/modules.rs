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
            let files = lazy_files(&list, &name)?;
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

/// Load module `name` with `params` (`rd_nr=1 rd_size=1024`), which must not be loaded
/// already: parameters are given at load time, so a module someone else loaded would
/// not be what was asked for.
pub fn load_with(name: &str, params: &str) -> Result<(), String> {
    let name = name.replace('-', "_");
    if Path::new("/sys/module").join(&name).exists() {
        return Err(format!("module {name} is loaded already"));
    }
    let dir = Path::new(GUEST_MODULES_DIR);
    match fs::read_to_string(dir.join("lazy")) {
        Ok(list) => {
            let files = lazy_files(&list, &name)?;
            let Some((last, deps)) = files.split_last() else {
                return Err(format!("module {name} has no file"));
            };
            for f in deps {
                let module = f.split(".ko").next().unwrap_or(f).replace('-', "_");
                if !loaded(&module) {
                    insmod_with(&dir.join(f), c"")?;
                }
            }
            let p = std::ffi::CString::new(params).map_err(|e| e.to_string())?;
            insmod_with(&dir.join(last), &p)
        }
        Err(_) => {
            let mut args = vec![name.as_str()];
            args.extend(params.split_whitespace());
            command::run("modprobe", &args)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    }
}

/// The files of module `name` in load order, from the initramfs's on-demand list.
fn lazy_files<'a>(list: &'a str, name: &str) -> Result<Vec<&'a str>, String> {
    list.lines()
        .find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some(name)).then(|| w.collect::<Vec<_>>())
        })
        .ok_or_else(|| format!("module {name} is not in this kernel"))
}

/// Unload module `name` (no waiting: a module in use stays, with EBUSY).
pub fn unload(name: &str) -> Result<(), String> {
    let name = name.replace('-', "_");
    let c = std::ffi::CString::new(name.as_str()).map_err(|e| e.to_string())?;
    match nix::kmod::delete_module(&c, nix::kmod::DeleteModuleFlags::O_NONBLOCK) {
        Ok(()) | Err(nix::errno::Errno::ENOENT) => Ok(()),
        Err(e) => Err(format!("unloading {name}: {e}")),
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
    insmod_with(path, c"")
}

fn insmod_with(path: &Path, params: &std::ffi::CStr) -> Result<(), String> {
    let f = fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    match nix::kmod::finit_module(&f, params, nix::kmod::ModuleInitFlags::empty()) {
        // Loaded meanwhile by someone else: what we wanted.
        Ok(()) | Err(nix::errno::Errno::EEXIST) => Ok(()),
        Err(e) => Err(format!("loading {}: {e}", path.display())),
    }
}

//! The guest's initramfs: static busybox, the init script, and exactly the kernel modules
//! the guest needs (resolved on the host from `modules.dep`, so the guest needs no kmod
//! and loads nothing over 9p). Built once per (kernel, module set, init) and cached.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::kernel::{Kernel, ModuleIndex};
use crate::errors::EnvError;

/// PID 1 of the guest. Parameters come on the kernel command line (`tb.*`).
pub const INIT_TEMPLATE: &str = include_str!("init.sh");

/// Loaded first when present: `libcrc32c` needs a crc32c implementation registered, a
/// soft dependency that `modules.dep` does not record.
pub const PRELOAD_MODULES: &[&str] = &["crc32c_intel", "crc32c_generic"];

/// Modules the guest cannot work without, in the order they are wanted.
pub const REQUIRED_MODULES: &[&str] = &[
    "virtio_pci",
    "9pnet_virtio",
    "9p",
    // The RAM layer over the host's read-only /tmp (init.sh).
    "overlay",
    "virtio_blk",
    "loop",
    "dm_mod",
    "dm_thin_pool",
];

/// Modules every run needs, but not before the job's first minute of work: the init loads
/// them in the background while the job starts (ext4, for the work disk: ~0.8 s of insmod
/// under TCG), and [`crate::sys::modules::ensure`] waits for one a step needs sooner.
pub const BACKGROUND_MODULES: &[&str] = &["ext4"];

/// Modules packed when the kernel has them but loaded only when a run asks for them
/// ([`crate::sys::modules::ensure`]): a boot pays for no filesystem or fault target it
/// does not use (xfs alone is ~2 s of insmod under TCG). Their absence is a capability,
/// reported by the probe (e.g. Debian 6.1 has no dm-dust).
pub const OPTIONAL_MODULES: &[&str] = &[
    "xfs",
    "dm_snapshot",
    "dm_flakey",
    "dm_delay",
    "dm_log_writes",
    "dm_dust",
    "dm_zero",
    // RAM-backed direct-lvm pools: the PV is a brd ram disk (backend/ram.rs).
    "brd",
];

/// Where static busybox is looked for.
const BUSYBOX_PATHS: &[&str] = &["/bin/busybox", "/usr/bin/busybox"];

/// A minimal `newc` cpio writer (what the kernel unpacks as initramfs).
pub struct Cpio<W: Write> {
    out: W,
    ino: u32,
    written: u64,
}

impl<W: Write> Cpio<W> {
    /// Start an archive.
    pub fn new(out: W) -> Self {
        Cpio {
            out,
            ino: 1,
            written: 0,
        }
    }

    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) -> io::Result<()> {
        let namesize = name.len() + 1;
        let header =
            format!(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            self.ino, mode, 0, 0, 1, 0, data.len(), 0, 0, 0, 0, namesize, 0
        );
        self.ino += 1;
        self.write_all(header.as_bytes())?;
        self.write_all(name.as_bytes())?;
        self.write_all(&[0])?;
        self.pad()?;
        self.write_all(data)?;
        self.pad()
    }

    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        self.written += b.len() as u64;
        self.out.write_all(b)
    }

    fn pad(&mut self) -> io::Result<()> {
        let rem = (4 - (self.written % 4) as usize) % 4;
        self.write_all(&[0u8; 3][..rem])
    }

    /// A directory.
    pub fn dir(&mut self, name: &str) -> io::Result<()> {
        self.entry(name, 0o040755, &[])
    }

    /// A regular file with permission bits `perm`.
    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) -> io::Result<()> {
        self.entry(name, 0o100000 | perm, data)
    }

    /// A symbolic link.
    pub fn symlink(&mut self, name: &str, target: &str) -> io::Result<()> {
        self.entry(name, 0o120777, target.as_bytes())
    }

    /// Write the trailer and return the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.entry("TRAILER!!!", 0, &[])?;
        Ok(self.out)
    }
}

/// A built (or cached) initramfs and what it holds.
#[derive(Debug, Clone)]
pub struct Initramfs {
    /// The image file.
    pub path: PathBuf,
    /// Optional modules the kernel lacks.
    pub missing_optional: Vec<String>,
}

/// Build the initramfs for `kernel`, or reuse the cached one.
pub fn build(kernel: &Kernel, cache: &Path) -> Result<Initramfs, EnvError> {
    let index = ModuleIndex::load(&kernel.modules_dir)?;
    let missing_optional: Vec<String> = OPTIONAL_MODULES
        .iter()
        .filter(|m| !index.has(m))
        .map(|m| m.to_string())
        .collect();
    let wanted: Vec<&str> = PRELOAD_MODULES
        .iter()
        .filter(|m| index.has(m))
        .chain(REQUIRED_MODULES.iter())
        .copied()
        .collect();
    let order = index.load_order(&wanted).map_err(|e| {
        EnvError::Kernel(format!(
            "kernel {} cannot run thinbench's guest: {e}",
            kernel.version
        ))
    })?;
    // Each on-demand module with what it needs, in load order (some already loaded by
    // then; the loader skips those).
    let mut lazy: Vec<(&str, Vec<PathBuf>)> = Vec::new();
    for m in BACKGROUND_MODULES {
        let files = index.load_order(&[m]).map_err(|e| {
            EnvError::Kernel(format!(
                "kernel {} cannot run thinbench's guest: {e}",
                kernel.version
            ))
        })?;
        lazy.push((m, files));
    }
    for m in OPTIONAL_MODULES.iter().filter(|m| index.has(m)) {
        if let Ok(files) = index.load_order(&[m]) {
            lazy.push((m, files));
        }
    }
    // The background set's files not already loaded up front, in load order.
    let background: Vec<PathBuf> = lazy
        .iter()
        .filter(|(m, _)| BACKGROUND_MODULES.contains(m))
        .flat_map(|(_, files)| files.iter().filter(|f| !order.contains(f)).cloned())
        .collect();
    let mut packed = order.clone();
    for (_, files) in &lazy {
        for f in files {
            if !packed.contains(f) {
                packed.push(f.clone());
            }
        }
    }
    let busybox = BUSYBOX_PATHS
        .iter()
        .map(Path::new)
        .find(|p| p.is_file())
        .ok_or_else(|| EnvError::Missing {
            what: "static busybox (the guest's init)".into(),
            install: "apt-get install -y busybox-static".into(),
        })?;

    let mut h = DefaultHasher::new();
    (
        INIT_TEMPLATE,
        &kernel.version,
        &order,
        &lazy,
        fs::metadata(busybox).map(|m| m.len()).ok(),
    )
        .hash(&mut h);
    for m in &packed {
        fs::metadata(kernel.modules_dir.join(m))
            .map(|md| md.len())
            .ok()
            .hash(&mut h);
    }
    let dir = cache.join("initramfs");
    let path = dir.join(format!("{}-{:016x}.cpio", kernel.version, h.finish()));
    if path.is_file() {
        return Ok(Initramfs {
            path,
            missing_optional,
        });
    }
    fs::create_dir_all(&dir).map_err(|e| EnvError::io(&dir, e))?;
    let tmp = dir.join(format!(".build-{}", std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut c = Cpio::new(io::BufWriter::new(fs::File::create(&tmp)?));
        for d in ["bin", "dev", "proc", "sys", "newroot", "modules", "tmp"] {
            c.dir(d)?;
        }
        c.file("bin/busybox", 0o755, &fs::read(busybox)?)?;
        c.symlink("bin/sh", "busybox")?;
        c.file("init", 0o755, INIT_TEMPLATE.as_bytes())?;
        let file_name = |m: &Path| packed_name(m).to_owned();
        for m in &packed {
            c.file(
                &format!("modules/{}", file_name(m)),
                0o644,
                &module_bytes(&kernel.modules_dir.join(m))?,
            )?;
        }
        let list: String = order.iter().map(|m| file_name(m) + "\n").collect();
        c.file("modules/order", 0o644, list.as_bytes())?;
        let list: String = background.iter().map(|m| file_name(m) + "\n").collect();
        c.file("modules/background", 0o644, list.as_bytes())?;
        let lazy_list: String = lazy
            .iter()
            .map(|(name, files)| {
                let files: Vec<String> = files.iter().map(|f| file_name(f)).collect();
                format!("{name} {}\n", files.join(" "))
            })
            .collect();
        c.file("modules/lazy", 0o644, lazy_list.as_bytes())?;
        c.finish()?.flush()
    })();
    result.map_err(|e| EnvError::io(&tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| EnvError::io(&path, e))?;
    Ok(Initramfs {
        path,
        missing_optional,
    })
}

/// A module's name in the initramfs: its file name without a compression suffix (it is
/// packed decompressed).
fn packed_name(m: &Path) -> &str {
    let name = m
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("module.ko");
    name.strip_suffix(".xz")
        .or_else(|| name.strip_suffix(".zst"))
        .unwrap_or(name)
}

/// A module file's ELF bytes. Debian's 6.12 ships every module as `.ko.xz`: decompressed
/// here, on the host, so neither busybox's insmod nor `finit_module` in the guest has to
/// know (the guest kernel's own decompression, `MODULE_INIT_COMPRESSED_FILE`, depends
/// on its config).
fn module_bytes(path: &Path) -> io::Result<Vec<u8>> {
    let raw = fs::read(path)?;
    let bad = |what: &str, e: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {what}: {e}", path.display()),
        )
    };
    match path.extension().and_then(|x| x.to_str()) {
        Some("xz") => {
            let mut out = Vec::new();
            lzma_rs::xz_decompress(&mut raw.as_slice(), &mut out)
                .map_err(|e| bad("xz", e.to_string()))?;
            Ok(out)
        }
        Some("zst") => {
            let mut out = Vec::new();
            let mut dec = ruzstd::streaming_decoder::StreamingDecoder::new(raw.as_slice())
                .map_err(|e| bad("zstd", e.to_string()))?;
            io::Read::read_to_end(&mut dec, &mut out)?;
            Ok(out)
        }
        _ => Ok(raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpio_newc_layout() {
        let mut c = Cpio::new(Vec::new());
        c.file("init", 0o755, b"#!/bin/sh\n").unwrap();
        let out = c.finish().unwrap();
        // header(110) + "init\0"(5) padded to 116, data 10 padded to 12
        assert_eq!(&out[..6], b"070701");
        assert_eq!(&out[110..115], b"init\0");
        assert_eq!(&out[116..126], b"#!/bin/sh\n");
        assert_eq!(out.len() % 4, 0);
        let trailer = b"TRAILER!!!";
        assert!(out.windows(trailer.len()).any(|w| w == trailer));
        // mode field of the file entry: regular file 0755
        assert_eq!(&out[14..22], b"000081ed");
    }

    #[test]
    fn compressed_modules_are_packed_decompressed() {
        let dir = tempfile::tempdir().unwrap();
        let elf: Vec<u8> = b"\x7fELF".iter().copied().chain(0..200u8).collect();
        let mut xz = Vec::new();
        lzma_rs::xz_compress(&mut elf.as_slice(), &mut xz).unwrap();
        let p = dir.path().join("dm-snapshot.ko.xz");
        fs::write(&p, &xz).unwrap();
        assert_ne!(xz, elf);
        assert_eq!(module_bytes(&p).unwrap(), elf);
        assert_eq!(packed_name(&p), "dm-snapshot.ko");
        // Damaged: an error naming the file, not garbage in the initramfs.
        fs::write(&p, &xz[..xz.len() / 2]).unwrap();
        let e = module_bytes(&p).unwrap_err().to_string();
        assert!(e.contains("dm-snapshot.ko.xz: xz"), "{e}");
        let plain = dir.path().join("loop.ko");
        fs::write(&plain, &elf).unwrap();
        assert_eq!(module_bytes(&plain).unwrap(), elf);
        assert_eq!(packed_name(&plain), "loop.ko");
    }
}

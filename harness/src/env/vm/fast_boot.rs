//! What shortens a TCG boot, each measured on this machine (qemu 7.2, Debian 6.1 guest):
//!
//! - **PVH entry into the uncompressed kernel.** A bzImage is decompressed by the guest
//!   (xz, under emulation: ~6 s before the kernel's clock starts). qemu loads an ELF
//!   `vmlinux` carrying the PVH note straight into guest memory and enters it in
//!   protected mode: ~0.7 s from qemu's start to the kernel's first instruction. The
//!   ELF is extracted once per kernel image and cached; a kernel without the note boots
//!   as the bzImage it is.
//! - **`lpj=`**: the delay-loop calibration (~0.8 s under TCG, where it also fails to
//!   get a good estimate) is skipped by passing the loops per jiffy the host measured.
//!   It only sets `udelay`'s scale; dm-thin does not depend on it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::kernel::Kernel;

/// The ELF note that marks a PVH entry point (`XEN_ELFNOTE_PHYS32_ENTRY`).
const PVH_NOTE_TYPE: u32 = 18;

/// Compressed-payload magics of a bzImage and the tool that decompresses each (the
/// same search `scripts/extract-vmlinux` does).
const PAYLOADS: &[(&[u8], &str, &[&str])] = &[
    (b"\xfd7zXZ\x00", "xz", &["-dc", "--single-stream"]),
    (b"\x28\xb5\x2f\xfd", "zstd", &["-dc"]),
    (b"\x1f\x8b\x08\x00", "gzip", &["-dc"]),
];

/// The image to hand qemu's `-kernel`: the cached PVH `vmlinux` of `kernel` when one can
/// be had, else the bzImage itself, with the reason (a slower boot is not an error).
pub fn boot_image(kernel: &Kernel, cache: &Path) -> (PathBuf, String) {
    match pvh_vmlinux(kernel, cache) {
        Ok(p) => (p, "PVH vmlinux".into()),
        Err(why) => (kernel.image.clone(), format!("bzImage ({why})")),
    }
}

fn pvh_vmlinux(kernel: &Kernel, cache: &Path) -> Result<PathBuf, String> {
    let meta = fs::metadata(&kernel.image).map_err(|e| e.to_string())?;
    let stamp = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let dir = cache.join("pvh");
    // Keyed by the image's size and mtime: a rebuilt kernel at the same path is new.
    let path = dir.join(format!("vmlinux-{}-{}-{stamp}", kernel.version, meta.len()));
    if path.is_file() {
        return Ok(path);
    }
    let image = fs::read(&kernel.image).map_err(|e| e.to_string())?;
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let elf = extract(&image, &dir)?;
    if !has_pvh_note(&elf) {
        return Err("the kernel has no PVH entry note".into());
    }
    let tmp = dir.join(format!(".vmlinux-{}", std::process::id()));
    fs::write(&tmp, &elf).map_err(|e| format!("{}: {e}", tmp.display()))?;
    fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The first payload in `image` that decompresses to an ELF (`scratch`: a directory for
/// the tool's input).
fn extract(image: &[u8], scratch: &Path) -> Result<Vec<u8>, String> {
    for (magic, tool, args) in PAYLOADS {
        let Some(at) = find(image, magic) else {
            continue;
        };
        let Ok(out) = decompress(tool, args, &image[at..], scratch) else {
            continue;
        };
        if out.starts_with(b"\x7fELF") {
            return Ok(out);
        }
    }
    Err("no compressed ELF payload found (xz, zstd, gzip)".into())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Run `tool args` on `input`; the output is kept even when the tool complains about the
/// bytes after the stream (a bzImage's tail), as extract-vmlinux does. The input goes
/// through a file, not a pipe: a tool that stops reading early must not SIGPIPE us.
fn decompress(tool: &str, args: &[&str], input: &[u8], scratch: &Path) -> Result<Vec<u8>, String> {
    let path = scratch.join(format!(".payload-{}", std::process::id()));
    fs::write(&path, input).map_err(|e| format!("{}: {e}", path.display()))?;
    let out = fs::File::open(&path).and_then(|f| {
        Command::new(tool)
            .args(args)
            .stdin(Stdio::from(f))
            .stderr(Stdio::null())
            .output()
    });
    let _ = fs::remove_file(&path);
    Ok(out.map_err(|e| format!("{tool}: {e}"))?.stdout)
}

/// Whether an ELF64 little-endian image has a `Xen` note of type PVH entry in a
/// `PT_NOTE` segment (what qemu looks for before it enters a kernel by PVH).
pub fn has_pvh_note(elf: &[u8]) -> bool {
    let u16_at = |o: usize| elf.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o: usize| {
        elf.get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
    };
    let u64_at = |o: usize| {
        elf.get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    };
    // ELF64 (class 2), little-endian (data 1).
    if !elf.starts_with(b"\x7fELF") || elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    for i in 0..phnum as usize {
        let ph = phoff as usize + i * phentsize as usize;
        // p_type PT_NOTE = 4; p_offset at +8, p_filesz at +32.
        if u32_at(ph) != Some(4) {
            continue;
        }
        let (Some(off), Some(size)) = (u64_at(ph + 8), u64_at(ph + 32)) else {
            continue;
        };
        let (mut o, end) = (off as usize, (off + size) as usize);
        while o + 12 <= end {
            let (Some(namesz), Some(descsz), Some(ty)) = (u32_at(o), u32_at(o + 4), u32_at(o + 8))
            else {
                break;
            };
            let name = elf.get(o + 12..o + 12 + namesz as usize).unwrap_or(&[]);
            if ty == PVH_NOTE_TYPE && name == b"Xen\0" {
                return true;
            }
            let pad = |n: u32| (n as usize).div_ceil(4) * 4;
            o += 12 + pad(namesz) + pad(descsz);
        }
    }
    false
}

/// `lpj=` for the guest: the host's BogoMIPS (same TSC under TCG) in loops per jiffy at
/// the guest kernel's HZ (its config when it sits next to the image, else Debian's 250).
pub fn lpj_arg(kernel: &Kernel) -> Option<String> {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").ok()?;
    let bogomips: f64 = cpuinfo
        .lines()
        .find(|l| l.starts_with("bogomips"))?
        .split(':')
        .nth(1)?
        .trim()
        .parse()
        .ok()?;
    let hz = kernel_hz(kernel).unwrap_or(250);
    // BogoMIPS = lpj * HZ / 500000.
    let lpj = (bogomips * 500_000.0 / hz as f64) as u64;
    (lpj > 0).then(|| format!("lpj={lpj}"))
}

fn kernel_hz(kernel: &Kernel) -> Option<u32> {
    let dir = kernel.image.parent()?;
    let config = fs::read_to_string(dir.join(format!("config-{}", kernel.version))).ok()?;
    config
        .lines()
        .find_map(|l| l.strip_prefix("CONFIG_HZ="))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A minimal ELF64 with one PT_NOTE segment holding `notes`.
    fn elf_with_note(name: &[u8], ty: u32) -> Vec<u8> {
        let mut e = vec![0u8; 64 + 56];
        e[..4].copy_from_slice(b"\x7fELF");
        e[4] = 2;
        e[5] = 1;
        e[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        e[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        e[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        let note_off = e.len() as u64;
        let mut note = Vec::new();
        note.extend_from_slice(&(name.len() as u32).to_le_bytes());
        note.extend_from_slice(&8u32.to_le_bytes());
        note.extend_from_slice(&ty.to_le_bytes());
        note.extend_from_slice(name);
        note.resize(note.len().div_ceil(4) * 4, 0);
        note.extend_from_slice(&[0; 8]);
        e[64..68].copy_from_slice(&4u32.to_le_bytes());
        e[64 + 8..64 + 16].copy_from_slice(&note_off.to_le_bytes());
        e[64 + 32..64 + 40].copy_from_slice(&(note.len() as u64).to_le_bytes());
        e.extend_from_slice(&note);
        e
    }

    #[test]
    fn pvh_note_is_found_only_when_present() {
        assert!(has_pvh_note(&elf_with_note(b"Xen\0", 18)));
        assert!(!has_pvh_note(&elf_with_note(b"Xen\0", 17)));
        assert!(!has_pvh_note(&elf_with_note(b"GNU\0", 18)));
        assert!(!has_pvh_note(b"\x7fELF"));
        let mut truncated = elf_with_note(b"Xen\0", 18);
        truncated.truncate(100);
        assert!(!has_pvh_note(&truncated));
    }

    #[test]
    fn gzip_payload_is_found_after_a_setup_header() {
        let elf = elf_with_note(b"Xen\0", 18);
        let gz = Command::new("gzip")
            .arg("-c")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                c.stdin.take().unwrap().write_all(&elf)?;
                c.wait_with_output()
            })
            .unwrap()
            .stdout;
        let mut image = b"MZ setup code, no payload magic here".to_vec();
        image.extend_from_slice(&gz);
        image.extend_from_slice(b"trailing bytes of the bzImage");
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(extract(&image, dir.path()).unwrap(), elf);
        assert!(extract(b"no payload", dir.path()).is_err());
    }
}

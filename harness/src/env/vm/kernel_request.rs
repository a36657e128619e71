//! What `--kernel` (or a scenario's `kernels`) names, and the kernels it resolves to:
//! `debian:<name>` through apt ([`super::debian`]), or an image path with its modules.
//! (The request itself is the spec's: a scenario can name kernels too.)

use std::path::{Path, PathBuf};

use super::debian;
use super::kernel::Kernel;
use crate::errors::EnvError;
pub use crate::spec::KernelRequest;

/// The kernels `requests` name, in order; each path kernel takes the next of `modules`
/// (`--kernel A --modules MA --kernel B --modules MB`). No request: the default kernel.
pub fn resolve_all(
    requests: &[KernelRequest],
    modules: &[PathBuf],
) -> Result<Vec<Kernel>, EnvError> {
    let paths = requests
        .iter()
        .filter(|r| matches!(r, KernelRequest::Path(_)))
        .count();
    if paths != modules.len() {
        return Err(EnvError::Kernel(format!(
            "{paths} kernel image path(s) and {} --modules: give each kernel path its lib/modules/<version> directory with --modules, in the same order (`debian:` kernels need none)",
            modules.len()
        )));
    }
    if requests.is_empty() {
        return Ok(vec![Kernel::discover()?]);
    }
    let mut modules = modules.iter();
    let mut out: Vec<Kernel> = Vec::new();
    for r in requests {
        let k = match r {
            KernelRequest::Debian(name) => debian::resolve(name)?,
            KernelRequest::Path(image) => {
                let m: &Path = modules
                    .next()
                    .map(PathBuf::as_path)
                    .unwrap_or(Path::new(""));
                Kernel::explicit(image, m)?
            }
        };
        if out.iter().any(|o| o.version == k.version) {
            return Err(EnvError::Kernel(format!(
                "kernel {} is named twice: each kernel of a matrix runs once",
                k.version
            )));
        }
        out.push(k);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_needs_its_modules() {
        let e = resolve_all(&[KernelRequest::Path("/nope".into())], &[]).unwrap_err();
        assert!(
            e.to_string()
                .contains("1 kernel image path(s) and 0 --modules"),
            "{e}"
        );
    }
}

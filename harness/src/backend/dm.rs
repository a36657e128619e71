//! Device-mapper operations through the `devicemapper` crate's ioctls (never dmsetup):
//! create/load/resume, suspend, remove (optionally deferred), messages, status, listing.

use std::path::PathBuf;

use devicemapper::{DevId, DmFlags, DmName, DmOptions, DmUuid, DM};

use crate::backend::error::BackendError;

/// One dm device we created, by name, with its block device node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmDev {
    /// dm name.
    pub name: String,
    /// major:minor.
    pub major: u32,
    /// minor number (`/dev/dm-<minor>`).
    pub minor: u32,
}

impl DmDev {
    /// The device node devtmpfs makes for it.
    pub fn devnode(&self) -> PathBuf {
        PathBuf::from(format!("/dev/dm-{}", self.minor))
    }
    /// `major:minor`, as tables reference devices.
    pub fn majmin(&self) -> String {
        format!("{}:{}", self.major, self.minor)
    }
}

/// A listed device: name, uuid (empty if none), major, minor, open count.
pub type Listed = (String, String, u32, u32, i32);

/// A table line: start, length (sectors), target type, params.
pub type TableLine = (u64, u64, String, String);

fn err(op: &str, name: &str, e: devicemapper::DmError) -> BackendError {
    BackendError::Dm {
        op: op.to_owned(),
        device: name.to_owned(),
        source: e,
    }
}

/// An open control handle.
pub struct Dm {
    dm: DM,
}

impl Dm {
    /// Open `/dev/mapper/control`.
    pub fn open() -> Result<Dm, BackendError> {
        Ok(Dm {
            dm: DM::new().map_err(|e| err("open", "/dev/mapper/control", e))?,
        })
    }

    /// Driver version `x.y.z`.
    pub fn version(&self) -> Result<String, BackendError> {
        let (a, b, c) = self.dm.version().map_err(|e| err("version", "-", e))?;
        Ok(format!("{a}.{b}.{c}"))
    }

    /// Loaded target types and versions.
    pub fn targets(&self) -> Result<Vec<(String, String)>, BackendError> {
        let v = self
            .dm
            .list_versions()
            .map_err(|e| err("list-versions", "-", e))?;
        Ok(v.into_iter()
            .map(|(n, a, b, c)| (n, format!("{a}.{b}.{c}")))
            .collect())
    }

    /// Create `name` (with `uuid`), load `table` and resume it.
    pub fn create(
        &self,
        name: &str,
        uuid: &str,
        table: &[TableLine],
    ) -> Result<DmDev, BackendError> {
        self.create_with(name, uuid, table, false)
    }

    /// [`Dm::create`], read-only when `read_only` (`dmsetup create --readonly`).
    pub fn create_with(
        &self,
        name: &str,
        uuid: &str,
        table: &[TableLine],
        read_only: bool,
    ) -> Result<DmDev, BackendError> {
        let load_opts = if read_only {
            DmOptions::default().set_flags(DmFlags::DM_READONLY)
        } else {
            DmOptions::default()
        };
        let dn = DmName::new(name).map_err(|e| err("create", name, e))?;
        let du = DmUuid::new(uuid).map_err(|e| err("create", name, e))?;
        let info = self
            .dm
            .device_create(dn, Some(du), DmOptions::default())
            .map_err(|e| err("create", name, e))?;
        let id = DevId::Name(dn);
        let loaded = self
            .dm
            .table_load(&id, table, load_opts)
            .and_then(|_| self.dm.device_suspend(&id, DmOptions::default()));
        if let Err(e) = loaded {
            // Don't leave an empty device behind.
            let _ = self.dm.device_remove(&id, DmOptions::default());
            return Err(err("load table", name, e));
        }
        let dev = info.device();
        Ok(DmDev {
            name: name.to_owned(),
            major: dev.major,
            minor: dev.minor,
        })
    }

    /// Look up an existing device.
    pub fn info(&self, name: &str) -> Result<Option<DmDev>, BackendError> {
        let dn = DmName::new(name).map_err(|e| err("info", name, e))?;
        match self.dm.device_info(&DevId::Name(dn)) {
            Ok(i) => {
                let d = i.device();
                Ok(Some(DmDev {
                    name: name.to_owned(),
                    major: d.major,
                    minor: d.minor,
                }))
            }
            Err(_) => Ok(None),
        }
    }

    /// Whether `name` exists and has a deferred remove pending.
    pub fn deferred_pending(&self, name: &str) -> Result<Option<bool>, BackendError> {
        let dn = DmName::new(name).map_err(|e| err("info", name, e))?;
        match self.dm.device_info(&DevId::Name(dn)) {
            Ok(i) => Ok(Some(i.flags().contains(DmFlags::DM_DEFERRED_REMOVE))),
            Err(_) => Ok(None),
        }
    }

    /// Whether `name` exists and is suspended (`None`: no such device).
    pub fn is_suspended(&self, name: &str) -> Result<Option<bool>, BackendError> {
        let dn = DmName::new(name).map_err(|e| err("info", name, e))?;
        match self.dm.device_info(&DevId::Name(dn)) {
            Ok(i) => Ok(Some(i.flags().contains(DmFlags::DM_SUSPEND))),
            Err(_) => Ok(None),
        }
    }

    /// Whether a table waits in the device's inactive slot (`None`: no such device).
    pub fn inactive_present(&self, name: &str) -> Result<Option<bool>, BackendError> {
        let dn = DmName::new(name).map_err(|e| err("info", name, e))?;
        match self.dm.device_info(&DevId::Name(dn)) {
            Ok(i) => Ok(Some(i.flags().contains(DmFlags::DM_INACTIVE_PRESENT))),
            Err(_) => Ok(None),
        }
    }

    /// Suspend (`flush` false = noflush, as a power cut wants).
    pub fn suspend(&self, name: &str, flush: bool) -> Result<(), BackendError> {
        let dn = DmName::new(name).map_err(|e| err("suspend", name, e))?;
        let mut flags = DmFlags::DM_SUSPEND;
        if !flush {
            flags |= DmFlags::DM_NOFLUSH | DmFlags::DM_SKIP_LOCKFS;
        }
        self.dm
            .device_suspend(&DevId::Name(dn), DmOptions::default().set_flags(flags))
            .map(|_| ())
            .map_err(|e| err("suspend", name, e))
    }

    /// Resume.
    pub fn resume(&self, name: &str) -> Result<(), BackendError> {
        let dn = DmName::new(name).map_err(|e| err("resume", name, e))?;
        self.dm
            .device_suspend(&DevId::Name(dn), DmOptions::default())
            .map(|_| ())
            .map_err(|e| err("resume", name, e))
    }

    /// Load `table` into the inactive slot only (it takes effect at the next resume).
    pub fn load(&self, name: &str, table: &[TableLine]) -> Result<(), BackendError> {
        let dn = DmName::new(name).map_err(|e| err("load", name, e))?;
        self.dm
            .table_load(&DevId::Name(dn), table, DmOptions::default())
            .map(|_| ())
            .map_err(|e| err("load table", name, e))
    }

    /// Drop the inactive table (`dmsetup clear`): a table loaded and not resumed must
    /// not wait there for the next resume.
    pub fn clear(&self, name: &str) -> Result<(), BackendError> {
        let dn = DmName::new(name).map_err(|e| err("clear", name, e))?;
        self.dm
            .table_clear(&DevId::Name(dn))
            .map(|_| ())
            .map_err(|e| err("clear", name, e))
    }

    /// Load `table` into the inactive slot and resume with noflush: what lvm does to
    /// resize a pool, and what works while the pool holds IO for lack of space (a
    /// flushing suspend would wait for that IO forever).
    pub fn reload(&self, name: &str, table: &[TableLine]) -> Result<(), BackendError> {
        let dn = DmName::new(name).map_err(|e| err("reload", name, e))?;
        let id = DevId::Name(dn);
        self.dm
            .table_load(&id, table, DmOptions::default())
            .map_err(|e| err("load table", name, e))?;
        self.dm
            .device_suspend(&id, DmOptions::default().set_flags(DmFlags::DM_NOFLUSH))
            .map(|_| ())
            .map_err(|e| err("resume", name, e))
    }

    /// Remove; with `deferred`, an open device goes when its last opener closes.
    pub fn remove(&self, name: &str, deferred: bool) -> Result<(), BackendError> {
        let dn = DmName::new(name).map_err(|e| err("remove", name, e))?;
        let opts = if deferred {
            DmOptions::default().set_flags(DmFlags::DM_DEFERRED_REMOVE)
        } else {
            DmOptions::default()
        };
        self.dm
            .device_remove(&DevId::Name(dn), opts)
            .map(|_| ())
            .map_err(|e| err("remove", name, e))
    }

    /// Send a target message (sector 0). Returns the errno on failure for callers that
    /// retry EBUSY.
    pub fn message(&self, name: &str, msg: &str) -> Result<(), BackendError> {
        let dn = DmName::new(name).map_err(|e| err("message", name, e))?;
        self.dm
            .target_msg(&DevId::Name(dn), Some(0), msg)
            .map(|_| ())
            .map_err(|e| err(&format!("message `{msg}`"), name, e))
    }

    /// Status lines (noflush: reading status must not force a metadata commit).
    pub fn status(&self, name: &str) -> Result<Vec<TableLine>, BackendError> {
        let dn = DmName::new(name).map_err(|e| err("status", name, e))?;
        self.dm
            .table_status(
                &DevId::Name(dn),
                DmOptions::default().set_flags(DmFlags::DM_NOFLUSH),
            )
            .map(|(_, s)| s)
            .map_err(|e| err("status", name, e))
    }

    /// The active table.
    pub fn table(&self, name: &str) -> Result<Vec<TableLine>, BackendError> {
        let dn = DmName::new(name).map_err(|e| err("table", name, e))?;
        self.dm
            .table_status(
                &DevId::Name(dn),
                DmOptions::default().set_flags(DmFlags::DM_STATUS_TABLE),
            )
            .map(|(_, s)| s)
            .map_err(|e| err("table", name, e))
    }

    /// All dm devices: name, uuid (empty if none), major, minor, open count.
    pub fn list(&self) -> Result<Vec<Listed>, BackendError> {
        let devs = self.dm.list_devices().map_err(|e| err("list", "-", e))?;
        let mut out = Vec::new();
        for (name, dev, _) in devs {
            let n = name.to_string();
            let (uuid, open) = match self.dm.device_info(&DevId::Name(&name)) {
                Ok(i) => (
                    i.uuid().map(|u| u.to_string()).unwrap_or_default(),
                    i.open_count(),
                ),
                Err(_) => (String::new(), 0),
            };
            out.push((n, uuid, dev.major, dev.minor, open));
        }
        Ok(out)
    }
}

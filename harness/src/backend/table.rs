//! The params of the two dm-thin table lines, typed: built for the tables thinbench loads
//! itself (loop-lvm) and read back from the tables lvm loads (direct-lvm). The formats are
//! the kernel's (`Documentation/admin-guide/device-mapper/thin-provisioning.rst`):
//!
//! ```text
//! thin-pool <metadata dev> <data dev> <data block size> <low water mark> <#features> <feature>...
//! thin <pool dev> <dev id> [<external origin dev>]
//! ```

use std::fmt;

use thinbench_schema::ids::ThinId;

/// The smallest dm-thin data block, sectors (64KiB).
const MIN_BLOCK_SECTORS: u64 = 128;
/// The largest dm-thin data block, sectors (1GiB).
const MAX_BLOCK_SECTORS: u64 = 2_097_152;

/// A `thin-pool` target's params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolTable {
    /// Metadata device (`major:minor` or a path).
    pub metadata_dev: String,
    /// Data device.
    pub data_dev: String,
    /// Data block (chunk) size, sectors: a multiple of 128 from 128 to 2097152.
    pub block_sectors: u64,
    /// Low water mark, data blocks (lvm loads 0: dmeventd watches instead).
    pub low_water_mark: u64,
    /// Feature args in table order (`skip_block_zeroing`, `no_discard_passdown`, ...).
    pub features: Vec<String>,
}

impl PoolTable {
    /// Parses `thin-pool` params as the kernel prints them in a table.
    pub fn parse(params: &str) -> Result<PoolTable, String> {
        let f: Vec<&str> = params.split_whitespace().collect();
        let [meta, data, block, lwm, nfeat, rest @ ..] = f.as_slice() else {
            return Err(format!(
                "thin-pool table `{params}` has {} fields, expected at least 5",
                f.len()
            ));
        };
        let num = |v: &str, what: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("thin-pool table: {what} `{v}` is not a number"))
        };
        let block_sectors = num(block, "data block size")?;
        if !(MIN_BLOCK_SECTORS..=MAX_BLOCK_SECTORS).contains(&block_sectors)
            || !block_sectors.is_multiple_of(MIN_BLOCK_SECTORS)
        {
            return Err(format!(
                "thin-pool table: data block size {block_sectors} sectors is not a multiple of \
                 {MIN_BLOCK_SECTORS} from {MIN_BLOCK_SECTORS} to {MAX_BLOCK_SECTORS}"
            ));
        }
        let low_water_mark = num(lwm, "low water mark")?;
        let nfeat = num(nfeat, "feature count")?;
        if u64::try_from(rest.len()).ok() != Some(nfeat) {
            return Err(format!(
                "thin-pool table: {nfeat} feature args announced, {} present",
                rest.len()
            ));
        }
        Ok(PoolTable {
            metadata_dev: (*meta).to_owned(),
            data_dev: (*data).to_owned(),
            block_sectors,
            low_water_mark,
            features: rest.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    /// Whether the pool was loaded with feature `name`.
    pub fn has_feature(&self, name: &str) -> bool {
        self.features.iter().any(|f| f == name)
    }
}

impl fmt::Display for PoolTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {}",
            self.metadata_dev,
            self.data_dev,
            self.block_sectors,
            self.low_water_mark,
            self.features.len()
        )?;
        for x in &self.features {
            write!(f, " {x}")?;
        }
        Ok(())
    }
}

/// A `thin` target's params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThinTable {
    /// The pool's device (`major:minor` or a path).
    pub pool_dev: String,
    /// The thin's 24-bit device id in the pool.
    pub dev_id: ThinId,
    /// A read-only external origin, if any (thinbench makes none; lvm may).
    pub external_origin: Option<String>,
}

impl ThinTable {
    /// Parses `thin` params as the kernel prints them in a table.
    pub fn parse(params: &str) -> Result<ThinTable, String> {
        let f: Vec<&str> = params.split_whitespace().collect();
        let (pool, id, origin) = match f.as_slice() {
            [pool, id] => (pool, id, None),
            [pool, id, origin] => (pool, id, Some(*origin)),
            _ => {
                return Err(format!(
                    "thin table `{params}` has {} fields, expected 2 or 3",
                    f.len()
                ))
            }
        };
        let dev_id = id
            .parse::<u64>()
            .map_err(|_| format!("thin table: device id `{id}` is not a number"))
            .and_then(|i| ThinId::new(i).map_err(|e| format!("thin table: {e}")))?;
        Ok(ThinTable {
            pool_dev: (*pool).to_owned(),
            dev_id,
            external_origin: origin.map(str::to_owned),
        })
    }
}

impl fmt::Display for ThinTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.pool_dev, self.dev_id.get())?;
        if let Some(o) = &self.external_origin {
            write!(f, " {o}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_tables_of_thinbench_and_lvm() {
        // loop-lvm as thinbench loads it (Docker's), and as lvm loads a direct-lvm pool.
        let t = PoolTable::parse("7:1 7:0 128 32768 1 skip_block_zeroing").unwrap();
        assert_eq!(
            (t.block_sectors, t.low_water_mark, t.features.as_slice()),
            (128, 32768, ["skip_block_zeroing".to_owned()].as_slice())
        );
        assert!(t.has_feature("skip_block_zeroing"));
        assert_eq!(t.to_string(), "7:1 7:0 128 32768 1 skip_block_zeroing");
        let t =
            PoolTable::parse("253:1 253:2 1024 0 2 skip_block_zeroing error_if_no_space").unwrap();
        assert_eq!(
            (t.metadata_dev.as_str(), t.data_dev.as_str()),
            ("253:1", "253:2")
        );
        assert!(t.has_feature("error_if_no_space") && !t.has_feature("read_only"));
        let t = PoolTable::parse(" 1:2 3:4 2097152 0 0 ").unwrap();
        assert!(t.features.is_empty());
        assert_eq!(t.to_string(), "1:2 3:4 2097152 0 0");
    }

    #[test]
    fn pool_tables_refused() {
        let e = |s: &str| PoolTable::parse(s).unwrap_err();
        assert!(e("").contains("0 fields"));
        assert!(e("1:2 3:4 128 0").contains("4 fields"));
        assert!(e("1:2 3:4 64 0 0").contains("data block size 64"));
        assert!(e("1:2 3:4 192 0 0").contains("data block size 192"));
        assert!(e("1:2 3:4 4194304 0 0").contains("data block size"));
        assert!(e("1:2 3:4 x 0 0").contains("data block size `x`"));
        assert!(e("1:2 3:4 128 -1 0").contains("low water mark"));
        assert!(e("1:2 3:4 128 0 2 a").contains("2 feature args announced, 1 present"));
        assert!(e("1:2 3:4 128 0 0 a").contains("0 feature args announced, 1 present"));
        assert!(e("1:2 3:4 128 0 18446744073709551615").contains("announced"));
    }

    #[test]
    fn thin_tables() {
        let t = ThinTable::parse("253:3 7").unwrap();
        assert_eq!((t.pool_dev.as_str(), t.dev_id.get()), ("253:3", 7));
        assert_eq!(t.external_origin, None);
        assert_eq!(t.to_string(), "253:3 7");
        let t = ThinTable::parse("253:3 16777215 253:9").unwrap();
        assert_eq!(t.external_origin.as_deref(), Some("253:9"));
        assert_eq!(t.to_string(), "253:3 16777215 253:9");
        assert!(ThinTable::parse("253:3").is_err());
        assert!(ThinTable::parse("253:3 x")
            .unwrap_err()
            .contains("device id `x`"));
        assert!(ThinTable::parse("253:3 16777216").is_err());
        assert!(ThinTable::parse("253:3 1 2 3")
            .unwrap_err()
            .contains("4 fields"));
    }
}

//! What the allocation models refuse.

use thinbench_schema::ids::ThinId;

/// What the dm-thin allocation model refuses. Running out of data space is not an error
/// here: it is part of a write's outcome (`WriteEffect::no_space`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// `create_thin`/`create_snap` with an id already in use (the kernel answers EEXIST).
    #[error("thin {id} already exists")]
    ThinExists {
        /// The id.
        id: ThinId,
    },
    /// An operation on a thin id that does not exist (the kernel answers ENODATA).
    #[error("thin {id} does not exist")]
    NoSuchThin {
        /// The id.
        id: ThinId,
    },
    /// Metadata read from the kernel maps a chunk to a block the pool does not have.
    #[error("thin {id} maps chunk {chunk} to data block {block}, beyond the pool")]
    BlockBeyondPool {
        /// The thin.
        id: ThinId,
        /// Its virtual chunk.
        chunk: u64,
        /// The data block.
        block: u64,
    },
}

//! IO engine, workloads, integrity patterns and the dm-thin allocation model.

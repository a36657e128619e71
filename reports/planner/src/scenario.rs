//! A plan scaled down to a thinbench scenario, to check the model on the kernel.

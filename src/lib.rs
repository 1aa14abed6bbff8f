//! sockdiag: socket diagnostics as a library; the binary is a thin wrapper.

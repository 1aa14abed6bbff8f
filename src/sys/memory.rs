//! Giving freed heap memory back to the kernel: glibc keeps freed blocks in the middle of its heap mapped, so
//! a listener whose buffers were released after a flood would otherwise keep the flood's peak resident.

/// Returns the free pages of the heap to the kernel (glibc's malloc_trim); a no-op on other C libraries.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes a padding size and only walks glibc's own heap under its lock.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn releasing_free_memory_leaves_live_allocations_intact() {
        let keep = vec![7u8; 1 << 20];
        drop(vec![1u8; 8 << 20]);
        super::release_free_memory();
        assert!(keep.iter().all(|b| *b == 7));
    }
}

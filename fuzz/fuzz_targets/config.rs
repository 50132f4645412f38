#![no_main]
// Panics on a broken invariant: that is how libFuzzer learns of it.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = rampart::fuzzing::config(data) {
        panic!("{violation}");
    }
});

#![no_main]
//! Lenient parse → config → validate → expected layout → compat plan → llamafy.
libfuzzer_sys::fuzz_target!(|data: &[u8]| ggufscope_fuzzcheck::analyze(data));

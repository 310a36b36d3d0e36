#![no_main]
//! Raw bytes → strict and lenient parse, layout check, every value and tensor visited.
libfuzzer_sys::fuzz_target!(|data: &[u8]| ggufscope_fuzzcheck::parse_any(data));

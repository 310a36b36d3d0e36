#![no_main]
//! A model from structured input → GgufWriter → parse: parse(write(m)) == m.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ggufscope_fuzzcheck::roundtrip(&mut ggufscope_fuzzcheck::arbitrary::Unstructured::new(
        data,
    ));
});

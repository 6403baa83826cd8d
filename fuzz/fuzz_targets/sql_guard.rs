//! The SQL guard must answer, never panic, whatever text a model sends.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(sql) = std::str::from_utf8(data) {
        let _ = db::guard::check(sql);
    }
});

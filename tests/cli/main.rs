mod exchange;
mod hkex_support;

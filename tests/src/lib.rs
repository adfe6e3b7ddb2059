//! Black-box tests of the whole platform, driven through the gateway (see `tests/`).

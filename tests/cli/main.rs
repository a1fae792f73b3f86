//! The one integration-test binary: runs `dms` in temp dirs with a cleared environment.

mod concurrency;

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
mod accounts;
mod clients;
mod helpers;
mod invitations;
mod keys;
mod operations;
mod operators;
mod replica;
mod retention;
mod rls;
mod sessions;
mod staff;
mod switch;
mod validation;

mod helpers;
mod operations;

//! nginx configuration as the checks and fixes need it: split an `nginx -T` dump into files, parse
//! each with nginx's own tokenizer rules, resolve `include`s into one effective tree whose every
//! node remembers its file and line, answer the questions the Odoo checks ask (servers, listens,
//! redirects, locations, upstreams, maps, inherited `proxy_set_header`…), and edit one file's text
//! while every byte outside the edit stays as it was.
//!
//! Tokenizer rules follow `ngx_conf_read_token()` (src/core/ngx_conf_file.c): words end at space,
//! tab, CR, LF, `;` or `{` (so `}` and `#` inside a word are literal); `#` starts a comment only at
//! a token start; quotes only open at a token start and must be followed by whitespace, `;`, `{` or
//! `)`; a backslash protects the next character; `${var}` does not open a block; `\"`, `\'`, `\\`,
//! `\t`, `\r`, `\n` are unescaped, any other backslash is kept (regexes keep `\.`). `map`, `types`
//! and friends are parsed like everything else: their entries are directives whose "name" is the
//! key (possibly `''`).
//!
//! Inheritance (the trap of facts §4): array-type directives (`proxy_set_header`, `add_header`,
//! `proxy_cookie_flags`, `proxy_cookie_path`, `ssl_certificate`, …) are inherited from the outer
//! level only when a level defines **none** of them; scalar ones (`proxy_read_timeout`) take the
//! nearest level that sets them. Levels: http → server → location → nested location. `if` blocks
//! are not treated as levels.
//!
//! A dump becomes facts only redacted ([`redact_dump`]): header values, variables, keys and URL
//! passwords that look secret are replaced by `<redacted>`, byte positions elsewhere kept.

mod config;
mod dump;
mod edit;
pub mod front;
mod redact;
mod syntax;
mod views;

#[cfg(test)]
pub(crate) use config::BUILDS;
pub use config::{glob_match, NginxConfig, ParsedFile, UnresolvedInclude};
pub use dump::{DumpFile, NginxDump};
pub use edit::{
    insert_at_file_top, insert_in_block, quote_arg, remove_directive, replace_args, EditOp,
    FileEdit, NewDirective, NginxEditError, Selector,
};
pub use redact::{redact_dump, redact_file, REDACTED};
pub use syntax::{parse_file, Block, Directive, NginxError};
pub use views::{
    parse_duration, scheme_and_host, Backend, Balancing, Effective, Header, Level, Listen,
    Location, MapBlock, ProxyRoute, ProxyTarget, Redirect, Server, Upstream, UpstreamServer,
};

//! End-to-end tests of the `debrief` binary's HTTP API (through a real socket) and commands.

mod ai_agents;
mod authorization;
mod bad_input;
mod billing;
mod cli;
mod connectors;
mod conversations;
mod credits;
mod demo_pages;
mod engines;
mod exports;
mod governance;
mod health;
mod layout;
mod metering;
mod sessions;
mod tenancy;
mod ticketing;
mod tokens;
mod util;
mod web;
mod webhooks;

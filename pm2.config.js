// randchat under PM2. See docs/deploy/pm2.md.
//
//   cargo build --release
//   cp .env.example .env          # set BOT_TOKEN
//   pm2 start pm2.config.js
//   pm2 save && pm2 startup       # start again at boot
//
// Configuration: PM2 has no env-file option of its own, and needs none.
// The app runs with `cwd` set to this directory, and randchat reads `.env`
// from its working directory at start-up (as it does when run by hand), so
// the same `.env` works everywhere. Variables already in PM2's environment
// win over `.env`, as they do for a manual run.
//
// Overrides, mostly for tests (none of them starts with RANDCHAT_, which
// randchat would reject as an unknown key):
//   PM2_RANDCHAT_BIN      the binary (default ./target/release/randchat)
//   PM2_RANDCHAT_CWD      the working directory, where .env is read
//   PM2_RANDCHAT_LOG_DIR  where the log file goes (default ./logs)

const path = require("path");

const root = __dirname;
const cwd = process.env.PM2_RANDCHAT_CWD || root;
const logDir = process.env.PM2_RANDCHAT_LOG_DIR || path.join(root, "logs");
const log = path.join(logDir, "randchat.log");

module.exports = {
  apps: [
    {
      name: "randchat",
      script: process.env.PM2_RANDCHAT_BIN || path.join(root, "target/release/randchat"),
      args: ["run"],
      // A native binary: PM2 must exec it, not hand it to node.
      interpreter: "none",
      cwd,
      // Exactly one: Telegram lets one process poll a token, and the
      // database is locked by the first instance anyway.
      exec_mode: "fork",
      instances: 1,
      watch: false,

      // Restart policy: after a crash, wait 200 ms, then twice as long after
      // each further crash (PM2 caps the delay at 15 s); a run that lasted
      // `min_uptime` resets the delay. Give up after `max_restarts` quick
      // crashes in a row, so a broken deployment shows as "errored" instead
      // of looping forever.
      autorestart: true,
      exp_backoff_restart_delay: 200,
      min_uptime: "30s",
      max_restarts: 10,
      // Exit code 2 means bad configuration or an unusable database:
      // restarting cannot fix that, an operator must.
      stop_exit_codes: [2],

      // PM2 stops apps with SIGINT, then SIGKILL after kill_timeout ms.
      // randchat finishes sends in flight and commits (about 7 s at most)
      // on SIGINT or SIGTERM; 15 s leaves room to spare.
      kill_timeout: 15000,

      // randchat logs to stderr and prints nothing else on stdout while
      // running: one file for both. Its lines carry their own timestamps.
      out_file: log,
      error_file: log,
      merge_logs: true,
      time: false,
    },
  ],
};

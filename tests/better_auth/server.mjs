// A real Better Auth server for the Python tests (tests/utils/better_auth.py starts it).
//
// Environment: DATABASE_URL (a PostgreSQL URL; node-postgres also reads ?host=/socket/dir),
// BETTER_AUTH_SECRET, BETTER_AUTH_URL (e.g. http://127.0.0.1:PORT), PORT; COOKIE_CACHE=jwt
// turns on the session cookie cache as a JWT (the better-auth.session_data cookie).
// It creates Better Auth's tables in DATABASE_URL's database (public schema), then listens on
// 127.0.0.1:PORT and prints one line "listening <url>". SIGTERM/SIGINT stop it cleanly.

import http from "node:http";

import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { bearer, jwt } from "better-auth/plugins";
import pg from "pg";

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`server.mjs: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const databaseUrl = required("DATABASE_URL");
const secret = required("BETTER_AUTH_SECRET");
const baseURL = required("BETTER_AUTH_URL");
const port = Number(required("PORT"));

const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });

const options = {
  database: pool,
  secret,
  baseURL,
  emailAndPassword: { enabled: true },
  plugins: [jwt(), bearer()],
  telemetry: { enabled: false },
  rateLimit: { enabled: false }, // tests sign up many users from one address
};
if (process.env.COOKIE_CACHE === "jwt") {
  options.session = { cookieCache: { enabled: true, strategy: "jwt" } };
}

const { runMigrations } = await getMigrations(options);
await runMigrations();

const auth = betterAuth(options);
const server = http.createServer(toNodeHandler(auth));

function stop() {
  server.close(() => pool.end().then(() => process.exit(0)));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

server.listen(port, "127.0.0.1", () => {
  console.log(`listening ${baseURL}`);
});

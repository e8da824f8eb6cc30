-- Built-in accounts, refresh-token families, revoked access tokens, sign-in rate limits and the
-- audit trail. Everything secret or cross-user lives in app_private, which the request role
-- cannot reach; it goes through the security definer functions in sql/functions instead.
-- depends: 0003_create_tasks

grant insert (email, name), update (email, name) on app.users to app_user;

create table app_private.accounts (
  user_id text primary key references app.users (id) on delete cascade,
  email text not null check (char_length(email) between 3 and 320),
  password_hash text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table app_private.accounts is 'Email and argon2id password hash of users who sign in here.';
-- Emails are compared case-insensitively; two racing sign-ups cannot both win.
create unique index accounts_email_key on app_private.accounts (lower(email));

create table app_private.refresh_tokens (
  id uuid primary key default gen_random_uuid(),
  family_id uuid not null,
  user_id text not null references app.users (id) on delete cascade,
  token_hash bytea not null unique check (octet_length(token_hash) = 32),
  expires_at timestamptz not null,
  used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);
comment on table app_private.refresh_tokens is
  'SHA-256 of each refresh token. A family is one sign-in; presenting a used token revokes it.';
create index refresh_tokens_family_id_idx on app_private.refresh_tokens (family_id);
create index refresh_tokens_user_id_idx on app_private.refresh_tokens (user_id);

create table app_private.revoked_access_tokens (
  jti uuid primary key,
  expires_at timestamptz not null
);
comment on table app_private.revoked_access_tokens is
  'Access tokens signed out before they expire; rows past expires_at can go.';

create table app_private.auth_failures (
  key text primary key check (char_length(key) <= 400),
  failures integer not null check (failures >= 0),
  window_started_at timestamptz not null
);
comment on table app_private.auth_failures is
  'Failed sign-ins and sign-ups per email and per client address, in a fixed window.';

create table app.audit_events (
  id bigint generated always as identity primary key,
  event text not null check (event in ('sign_up', 'sign_up_failed', 'sign_in', 'sign_in_failed', 'refresh',
    'refresh_reused', 'sign_out', 'token_rejected', 'rate_limited')),
  user_id text check (char_length(user_id) <= 255),
  client_address text check (char_length(client_address) <= 64),
  user_agent text check (char_length(user_agent) <= 512),
  request_id text check (char_length(request_id) <= 128),
  created_at timestamptz not null default now()
);
comment on table app.audit_events is
  'Security events, append-only: the request role may insert, never read, change or delete.';
create index audit_events_user_id_idx on app.audit_events (user_id, created_at);

alter table app.audit_events enable row level security;
alter table app.audit_events force row level security;
grant insert (event, user_id, client_address, user_agent, request_id) on app.audit_events
  to app_user;

alter table app_private.accounts enable row level security;
alter table app_private.refresh_tokens enable row level security;
alter table app_private.revoked_access_tokens enable row level security;
alter table app_private.auth_failures enable row level security;

-- The database checks passwords itself (how-to/security-model.md): the request role no longer
-- reads password hashes, issues refresh tokens for a user id it names, sets a password hash
-- without proving the password, or counts and clears sign-in failures by itself; and every
-- comparison of a password is counted in a transaction that committed before the comparison
-- runs, so that rolling back a guess cannot hide it from the limit.
--
-- 1. app_private.sign_in_attempts: the hashes the API made of passwords it was given, counted
--    and waiting to be compared by app.sign_in or app.erase_account (sql/functions).
-- 2. A check that holds every stored hash to the one form the API makes, which is what lets
--    the API recompute one from its parameters and salt alone: argon2id, version 19, a salt of
--    8 bytes or more, a hash of 32 bytes, base64 without padding. A hash of another form stops
--    the migration, with how many there are: rehash or delete those accounts first.
-- 3. The functions the new ones replace go (create or replace cannot change arguments or
--    result columns); sql/functions creates the new ones.
-- An API of the version before cannot sign anyone in or up, or erase a built-in account,
-- against this schema: deploy the API with the migration.
-- depends: 0009_record_task_changes

create table app_private.sign_in_attempts (
  id uuid primary key default gen_random_uuid(),
  email text not null check (char_length(email) <= 320),
  client_address text not null check (char_length(client_address) <= 64),
  password_parameters text not null check (char_length(password_parameters) <= 200),
  password_digest bytea not null check (octet_length(password_digest) = 32),
  inserted_by xid8 not null default pg_current_xact_id(),
  created_at timestamptz not null default now()
);
comment on table app_private.sign_in_attempts is
  'Counted password attempts: the SHA-256 of a hash the API made, until compared (5 minutes).';
create index sign_in_attempts_created_at_idx on app_private.sign_in_attempts (created_at);
alter table app_private.sign_in_attempts enable row level security;

create function app_private.is_password_hash(password_hash text) returns boolean
language sql immutable strict parallel safe
return password_hash ~ '^[$]argon2id[$]v=19[$]m=[0-9]{1,9},t=[0-9]{1,9},p=[0-9]{1,9}[$][A-Za-z0-9+/]{11,}[$][A-Za-z0-9+/]{43}$';
comment on function app_private.is_password_hash(text) is
  'Check of app_private.accounts.password_hash: argon2id v19, a salt of 8 bytes or more, a 32-byte hash.';

do $$
declare
  misfits bigint;
begin
  select count(*) into misfits from app_private.accounts as a
   where not app_private.is_password_hash(a.password_hash);
  if misfits > 0 then
    raise exception '% account(s) in app_private.accounts have a password hash of another form than argon2id v19 with a 32-byte hash', misfits
      using errcode = 'check_violation',
            hint = 'Rehash them with today''s parameters, or delete them, then migrate again.';
  end if;
end
$$;
alter table app_private.accounts add constraint accounts_password_hash_check
  check (app_private.is_password_hash(password_hash));

drop function if exists app.credentials_for(text);
drop function if exists app.set_password_hash(text, text);
drop function if exists app.auth_succeeded(text);
drop function if exists app.auth_failed(text, text);
drop function if exists app.issue_refresh_token(text, uuid, bytea, timestamptz, uuid, timestamptz);
drop function if exists app.sign_up(text, text, text);
drop function if exists app.own_account();
drop function if exists app.erase_account(uuid, timestamptz, text, text, text);

-- Replaces a password hash, for re-hashing on sign-in when the hashing parameters changed.
create or replace function app.set_password_hash(user_id text, password_hash text) returns void
language sql volatile security definer
set search_path = ''
as $$
  update app_private.accounts as a
     set password_hash = set_password_hash.password_hash, updated_at = pg_catalog.now()
   where a.user_id = set_password_hash.user_id
$$;

comment on function app.set_password_hash(text, text) is 'Stores a re-computed password hash.';
revoke all on function app.set_password_hash(text, text) from public;
grant execute on function app.set_password_hash(text, text) to app_user;

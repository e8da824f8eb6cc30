-- The caller's built-in account, for erasure to confirm with its password: its email and the
-- parameters and salt of its password hash (never the hash: app.confirm_own_password
-- compares). No row for a user without one (a Better Auth user).
create or replace function app.own_account()
returns table (email text, password_parameters text)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select a.email, app_private.hash_parameters(a.password_hash)
    from app_private.accounts as a
   where a.user_id = app.current_user_id()
$$;

comment on function app.own_account() is
  'Email and password hash parameters of the caller''s own account.';
revoke all on function app.own_account() from public;
grant execute on function app.own_account() to app_user;

-- What sign-in needs to check a password: the account's user and hash, by email, compared
-- case-insensitively. No row when there is no such account.
create or replace function app.credentials_for(email text)
returns table (user_id text, password_hash text, name text, created_at timestamptz)
language sql stable security definer
set search_path = ''
as $$
  select a.user_id, a.password_hash, u.name, u.created_at
    from app_private.accounts as a
    join app.users as u on u.id = a.user_id
   where pg_catalog.lower(a.email) = pg_catalog.lower(credentials_for.email)
$$;

comment on function app.credentials_for(text) is 'User id and password hash of an account, by email.';
revoke all on function app.credentials_for(text) from public;
grant execute on function app.credentials_for(text) to app_user;

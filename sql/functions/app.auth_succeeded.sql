-- A successful sign-in clears the email's failures (not the client address's: one person
-- signing in must not reset the count of someone guessing other accounts from that address).
create or replace function app.auth_succeeded(email text) returns void
language sql volatile security definer
set search_path = ''
as $$
  delete from app_private.auth_failures as f
   where f.key = 'email:' || pg_catalog.lower(auth_succeeded.email)
$$;

comment on function app.auth_succeeded(text) is 'Clears the failed attempts counted for an email.';
revoke all on function app.auth_succeeded(text) from public;
grant execute on function app.auth_succeeded(text) to app_user;

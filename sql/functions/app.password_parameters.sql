-- Sign-in's first step: the parameters and salt of the account's password hash, by email,
-- compared case-insensitively; null when there is no such account. Never the hash itself: the
-- API hashes the password it was given with these, and app.sign_in compares.
create or replace function app.password_parameters(email text) returns text
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select app_private.hash_parameters(a.password_hash)
    from app_private.accounts as a
   where pg_catalog.lower(a.email) = pg_catalog.lower(password_parameters.email)
$$;

comment on function app.password_parameters(text) is
  'Parameters and salt of an account''s password hash, by email; never the hash.';
revoke all on function app.password_parameters(text) from public;
grant execute on function app.password_parameters(text) to app_user;

-- What of an argon2id hash may leave the database: its parameters and salt, everything but
-- the last field ('$argon2id$v=19$m=19456,t=2,p=1$<salt>'). With them the API hashes the
-- password it was given, and the database compares the result with the hash it holds.
create or replace function app_private.hash_parameters(password_hash text) returns text
language sql immutable strict parallel safe
set search_path = pg_catalog, pg_temp
as $$ select pg_catalog.regexp_replace(hash_parameters.password_hash, '[$][^$]*$', '') $$;

comment on function app_private.hash_parameters(text) is
  'The parameters and salt of an argon2id hash, without the hash itself.';
revoke all on function app_private.hash_parameters(text) from public;

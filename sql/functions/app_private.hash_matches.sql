-- Whether an attempt's digest is the SHA-256 of a stored hash. Digests on both sides: the time
-- the comparison takes says nothing about the stored hash, whatever the attempt was.
create or replace function app_private.hash_matches(password_hash text, digest bytea)
returns boolean
language sql immutable parallel safe
set search_path = pg_catalog, pg_temp
as $$
  select coalesce(
    pg_catalog.sha256(pg_catalog.convert_to(hash_matches.password_hash, 'UTF8'))
      = hash_matches.digest, false)
$$;

comment on function app_private.hash_matches(text, bytea) is
  'True when the digest is the SHA-256 of the hash; false for nulls.';
revoke all on function app_private.hash_matches(text, bytea) from public;

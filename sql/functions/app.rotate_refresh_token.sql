-- Exchanges a refresh token for a new one in the same family. The presented token is locked, so
-- two racing refreshes with one token cannot both succeed. Outcomes:
--   ok       the new token is stored; user_id and family_id say whose;
--   reused   the token was already rotated: treated as theft, the whole family is revoked;
--   revoked, expired, unknown: refused, nothing changes.
-- It reports rather than raises, so that a revocation commits even though the caller gets 401.
-- The access token issued with the new refresh token is remembered, as at sign-in.
create or replace function app.rotate_refresh_token(
  old_hash bytea, new_hash bytea, expires_at timestamptz,
  access_token_id uuid, access_expires_at timestamptz
) returns table (outcome text, user_id text, family_id uuid)
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  presented app_private.refresh_tokens;
begin
  select * into presented from app_private.refresh_tokens as r
   where r.token_hash = rotate_refresh_token.old_hash
   for update;
  if not found then
    return query select 'unknown', null::text, null::uuid;
  elsif presented.revoked_at is not null then
    return query select 'revoked', presented.user_id, presented.family_id;
  elsif presented.used_at is not null then
    update app_private.refresh_tokens as r set revoked_at = pg_catalog.now()
     where r.family_id = presented.family_id and r.revoked_at is null;
    return query select 'reused', presented.user_id, presented.family_id;
  elsif presented.expires_at <= pg_catalog.now() then
    return query select 'expired', presented.user_id, presented.family_id;
  else
    update app_private.refresh_tokens as r set used_at = pg_catalog.now()
     where r.id = presented.id;
    insert into app_private.refresh_tokens
      (family_id, user_id, token_hash, expires_at, access_token_id, access_expires_at)
    values (presented.family_id, presented.user_id, rotate_refresh_token.new_hash,
            rotate_refresh_token.expires_at, rotate_refresh_token.access_token_id,
            rotate_refresh_token.access_expires_at);
    return query select 'ok', presented.user_id, presented.family_id;
  end if;
end
$$;

comment on function app.rotate_refresh_token(bytea, bytea, timestamptz, uuid, timestamptz) is
  'Rotates a refresh token; a reused one revokes its family. Reports the outcome.';
revoke all on function app.rotate_refresh_token(bytea, bytea, timestamptz, uuid, timestamptz) from public;
grant execute on function app.rotate_refresh_token(bytea, bytea, timestamptz, uuid, timestamptz) to app_user;
